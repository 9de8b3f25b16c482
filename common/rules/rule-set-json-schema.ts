/**
 * The JSON Schema (draft 2020-12) of rule set v1, generated from the zod schema so the two cannot
 * drift. `npm run schema` writes it to rule-set.schema.json; a test checks the committed file.
 */
import { z } from "zod";
import { buttonSchema, conditionOps, conditionSchema, ruleSetSchema } from "./rule-set.js";

const DESCRIPTION = [
  "Rule set v1 for the kintone -> LINE relay: which process-management actions notify whom, with",
  "which fields and buttons. Generated from common/rules/rule-set.ts (npm run schema); do not edit.",
  "Not expressed here, checked only by parseRuleSet: rule ids unique in the set, button ids unique",
  "in a rule (JSON Schema cannot compare items). String lengths are counted by zod in UTF-16 code",
  "units; JSON Schema validators count code points, so text with emoji may pass here and still be",
  "refused by parseRuleSet.",
].join(" ");

const opsNeedingValue = conditionOps.filter((op) => op !== "empty" && op !== "notEmpty");

export function buildRuleSetJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ruleSetSchema, {
    target: "draft-2020-12",
    // What a rule set file may hold: a field with a default (trigger lists) may be left out.
    io: "input",
    override: (ctx) => {
      // The superRefine rule "op needs a value" is per item, so JSON Schema can say it too.
      if (ctx.zodSchema === conditionSchema) {
        ctx.jsonSchema.if = { properties: { op: { enum: [...opsNeedingValue] } }, required: ["op"] };
        ctx.jsonSchema.then = { required: ["value"] };
      }
      // check-rule-set.ts's button rules, per item too: a step or a write-back, not both; a reason only before a step.
      if (ctx.zodSchema === buttonSchema) {
        ctx.jsonSchema.not = { required: ["action", "writeBack"] };
        ctx.jsonSchema.if = { properties: { askReason: { const: true } }, required: ["askReason"] };
        ctx.jsonSchema.then = { required: ["action"] };
      }
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, title: "kintone-line-relay rule set v1", description: DESCRIPTION, ...rest };
}

/** The file's exact text: stable key order, two-space indent, final newline. */
export function ruleSetJsonSchemaText(): string {
  return `${JSON.stringify(buildRuleSetJsonSchema(), null, 2)}\n`;
}
