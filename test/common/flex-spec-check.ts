/**
 * An independent, deliberately small check of a message against the LINE contract that travels
 * with the repo (emulators/line/contract/: JSON Schema generated from @line/bot-sdk's types, with
 * LINE's documented limits laid on): $ref, discriminator, const, type, enum, required,
 * min/maxLength, items, format uri, and no property the type does not declare. It shares the data
 * with the emulator, not the code: a cross-check for the builder's unit tests, not the emulator's validator.
 */
import { lineContract } from "../../emulators/line/contract/line-contract.js";
import type { JsonSchema } from "../../emulators/line/contract/line-contract-types.js";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function resolve(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/definitions/", "");
  const target = lineContract().definitions[name];
  if (!target) throw new Error(`contract has no definition ${schema.$ref}`);
  return resolve(target);
}

function typeOk(type: JsonSchema["type"], value: unknown): boolean {
  return (
    type === undefined ||
    (type === "object" && isObject(value)) ||
    (type === "array" && Array.isArray(value)) ||
    (type === "string" && typeof value === "string") ||
    (type === "integer" && Number.isInteger(value)) ||
    (type === "number" && typeof value === "number") ||
    (type === "boolean" && typeof value === "boolean")
  );
}

function check(value: unknown, input: JsonSchema, at: string, problems: string[]): void {
  let schema = resolve(input);
  if (schema.discriminator) {
    const tag = isObject(value) ? value[schema.discriminator.propertyName] : undefined;
    const target = typeof tag === "string" ? schema.discriminator.mapping[tag] : undefined;
    if (!target) {
      problems.push(`${at}: ${schema.discriminator.propertyName} ${JSON.stringify(tag)} is not in the mapping`);
      return;
    }
    schema = resolve({ $ref: target });
  }
  if (schema.anyOf || schema.oneOf) throw new Error(`${at}: a union without discriminator is not used by Flex messages`);
  if (!typeOk(schema.type, value)) {
    problems.push(`${at}: expected ${String(schema.type)}, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema.const !== undefined && value !== schema.const) problems.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join("|")}`);
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.format === "uri" && !URL.canParse(value)) problems.push(`${at}: not a URI`);
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => check(item, schema.items!, `${at}[${i}]`, problems));
  if (isObject(value)) {
    for (const r of schema.required ?? []) if (!(r in value)) problems.push(`${at}: missing required ${r}`);
    for (const [k, v] of Object.entries(value)) {
      const propSchema = schema.properties?.[k];
      if (!propSchema) problems.push(`${at}: property ${k} is not defined by the spec`);
      else check(v, propSchema, `${at}.${k}`, problems);
    }
  }
}

/** Problems of `message` as a LINE FlexMessage; [] when it conforms. */
export function flexSpecProblems(message: unknown): string[] {
  const problems: string[] = [];
  check(message, { $ref: "#/definitions/FlexMessage" }, "message", problems);
  return problems;
}
