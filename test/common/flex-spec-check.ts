/**
 * An independent, deliberately small check of a message against LINE's OpenAPI spec (the
 * authority for Flex JSON shape): $ref, allOf, discriminator mapping, type, enum, required,
 * min/maxLength, items, format uri, and no property that no schema in the chain declares.
 * It is a cross-check for the builder's unit tests, not the emulator's validator.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

interface Schema {
  $ref?: string;
  type?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  format?: string;
}

interface Spec {
  components: { schemas: Record<string, Schema> };
}

function specDir(): string {
  const fromEnv = process.env.LINE_OPENAPI_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return fileURLToPath(new URL("../../../shared/contracts/line-openapi/", import.meta.url));
}

let spec: Spec | undefined;
function loadSpec(): Spec {
  spec ??= parse(readFileSync(path.join(specDir(), "messaging-api.yml"), "utf8")) as Spec;
  return spec;
}

function resolve(ref: string): Schema {
  const name = ref.replace("#/components/schemas/", "");
  const schema = loadSpec().components.schemas[name];
  if (!schema) throw new Error(`spec has no schema ${ref}`);
  return schema;
}

interface Merged {
  type?: string;
  properties: Map<string, Schema>;
  required: Set<string>;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  format?: string;
  items?: Schema;
  problems: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function merge(schema: Schema, value: unknown, seen: Set<string>, into: Merged, at: string): void {
  if (schema.$ref) {
    if (seen.has(schema.$ref)) return;
    seen.add(schema.$ref);
    merge(resolve(schema.$ref), value, seen, into, at);
    return;
  }
  for (const part of schema.allOf ?? []) merge(part, value, seen, into, at);
  if (schema.type) into.type = schema.type;
  for (const [k, v] of Object.entries(schema.properties ?? {})) if (!into.properties.has(k)) into.properties.set(k, v);
  for (const r of schema.required ?? []) into.required.add(r);
  if (schema.enum) into.enum = schema.enum;
  if (schema.minLength !== undefined) into.minLength = schema.minLength;
  if (schema.maxLength !== undefined) into.maxLength = schema.maxLength;
  if (schema.format) into.format = schema.format;
  if (schema.items) into.items = schema.items;
  if (schema.discriminator && isObject(value)) {
    const tag = value[schema.discriminator.propertyName];
    const target = typeof tag === "string" ? schema.discriminator.mapping?.[tag] : undefined;
    if (target) merge({ $ref: target }, value, seen, into, at);
    else into.problems.push(`${at}: ${schema.discriminator.propertyName} ${JSON.stringify(tag)} is not in the mapping`);
  }
}

function check(value: unknown, schema: Schema, at: string, problems: string[]): void {
  const m: Merged = { properties: new Map(), required: new Set(), problems };
  merge(schema, value, new Set(), m, at);
  const typeOk =
    m.type === undefined ||
    (m.type === "object" && isObject(value)) ||
    (m.type === "array" && Array.isArray(value)) ||
    (m.type === "string" && typeof value === "string") ||
    (m.type === "integer" && Number.isInteger(value)) ||
    (m.type === "number" && typeof value === "number") ||
    (m.type === "boolean" && typeof value === "boolean");
  if (!typeOk) {
    problems.push(`${at}: expected ${m.type}, got ${JSON.stringify(value)}`);
    return;
  }
  if (m.enum && !m.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${m.enum.join("|")}`);
  if (typeof value === "string") {
    if (m.minLength !== undefined && value.length < m.minLength) problems.push(`${at}: shorter than ${m.minLength}`);
    if (m.maxLength !== undefined && value.length > m.maxLength) problems.push(`${at}: longer than ${m.maxLength}`);
    if (m.format === "uri" && !URL.canParse(value)) problems.push(`${at}: not a URI`);
  }
  if (Array.isArray(value) && m.items) value.forEach((item, i) => check(item, m.items as Schema, `${at}[${i}]`, problems));
  if (isObject(value)) {
    for (const r of m.required) if (!(r in value)) problems.push(`${at}: missing required ${r}`);
    for (const [k, v] of Object.entries(value)) {
      const propSchema = m.properties.get(k);
      if (!propSchema) problems.push(`${at}: property ${k} is not defined by the spec`);
      else check(v, propSchema, `${at}.${k}`, problems);
    }
  }
}

/** Problems of `message` as a LINE FlexMessage; [] when it conforms. */
export function flexSpecProblems(message: unknown): string[] {
  const problems: string[] = [];
  check(message, { $ref: "#/components/schemas/FlexMessage" }, "message", problems);
  return problems;
}
