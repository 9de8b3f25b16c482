import { z } from "zod";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import type { RuleSet } from "../../../common/rules/rule-set.js";
import { HttpError } from "../http/http-error.js";

/** A kintone app ID in a path or body: a positive whole number. */
export { APP_ID_PATTERN } from "../http/app-key.js";

const rulesBodySchema = z.strictObject({
  rules: z.string({ error: "must be the rule set as a JSON string" }),
});

/**
 * The one stored form of a rule set's JSON text: compact, keys in the order written. The same
 * rule set sent by the settings page and injected into a record page's call then hashes alike.
 */
export function canonicalRules(json: string): string {
  return JSON.stringify(JSON.parse(json));
}

/** 400 naming each path in the request body (`rules.rules[0].message.title`), as POST /v1/notifications does. */
export function invalidRules(errors: ReadonlyArray<{ path: string; message: string; ja?: string }>): HttpError {
  // `ja`: the same words the settings page shows a Japanese admin at the control.
  const details = errors.map((error) => ({ path: error.path ? `rules.${error.path}` : "rules", message: error.message, ...(error.ja ? { ja: error.ja } : {}) }));
  return new HttpError(400, "invalid_rules", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
}

/** `{"rules": "<rule set JSON string>"}`, validated; any problem is a 400 naming the path. */
export function parseRulesBody(json: unknown): { rules: string; ruleSet: RuleSet } {
  const body = rulesBodySchema.safeParse(json);
  if (!body.success) {
    const details = body.error.issues.map((issue) => ({
      path: issue.path.join(".") || "(body)",
      message: issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message,
    }));
    throw new HttpError(400, "invalid_request", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
  }
  const parsed = parseRuleSet(body.data.rules);
  if (!parsed.ok) throw invalidRules(parsed.errors);
  return { rules: canonicalRules(body.data.rules), ruleSet: parsed.ruleSet };
}
