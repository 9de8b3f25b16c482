/**
 * The committed LINE contract (line-contract.schema.json, generated from @line/bot-sdk's types by
 * `npm run line-contract`), read once per process, with the documented limits of
 * ../message-limits.ts laid onto it. Nothing here reads LINE's OpenAPI YAML.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { SCHEMA_LIMITS, type SchemaLimit } from "../message-limits.js";
import type { JsonSchema, LineContract } from "./line-contract-types.js";

export const LINE_CONTRACT_FILE = fileURLToPath(new URL("./line-contract.schema.json", import.meta.url));

const contractShape = z.object({
  $schema: z.string(),
  $comment: z.string(),
  source: z.object({ package: z.string(), version: z.string() }),
  operations: z.record(
    z.string(),
    z.object({ contentType: z.enum(["application/json", "application/x-www-form-urlencoded"]), schema: z.string() }),
  ),
  definitions: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** Parses a contract document; its definitions are checked keyword by keyword by the validator. */
export function parseLineContract(text: string): LineContract {
  const parsed = contractShape.parse(JSON.parse(text));
  for (const [name, operation] of Object.entries(parsed.operations)) {
    if (!(operation.schema in parsed.definitions)) throw new Error(`LINE contract: ${name} names no definition ${operation.schema}`);
  }
  return { ...parsed, definitions: parsed.definitions as Record<string, JsonSchema> };
}

let committed: LineContract | undefined;
let withLimits: LineContract | undefined;

/** The committed contract as generated. */
export function committedLineContract(): LineContract {
  committed ??= parseLineContract(readFileSync(LINE_CONTRACT_FILE, "utf8"));
  return committed;
}

/** A copy of `contract` with each limit laid onto its property; a limit whose property is gone is an error. */
export function applySchemaLimits(contract: LineContract, limits: Readonly<Record<string, SchemaLimit>>): LineContract {
  const definitions = structuredClone(contract.definitions);
  for (const [key, limit] of Object.entries(limits)) {
    const match = /^([^.]+)\.([^.[\]]+)(\[\])?$/.exec(key);
    const property = match && definitions[match[1]!]?.properties?.[match[2]!];
    const target = property && match[3] ? property.items : property;
    if (!target) throw new Error(`LINE contract has no property for the limit ${key}`);
    if (target.$ref) throw new Error(`limit ${key}: the property is a reference; limit the definition it names`);
    const { type, ...rest } = limit;
    if (type === "integer") {
      if (target.type !== "number") throw new Error(`limit ${key}: integer on a ${String(target.type)}`);
      target.type = "integer";
    }
    Object.assign(target, rest);
  }
  return { ...contract, definitions };
}

/** What the emulator validates against: the committed contract plus SCHEMA_LIMITS. */
export function lineContract(): LineContract {
  withLimits ??= applySchemaLimits(committedLineContract(), SCHEMA_LIMITS);
  return withLimits;
}
