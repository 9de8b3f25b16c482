/**
 * Validates request bodies against the LINE contract (JSON Schema generated from @line/bot-sdk's
 * types, see contract/). As strict as LINE: objects carry `additionalProperties: false`, so a
 * property the type does not declare is an error (LINE's deserializer rejects unknown
 * properties); a union with a `discriminator` is dispatched on its tag, and an unknown tag names
 * the tag. Paths are LINE's: `messages[0].contents.body.contents[1].action.label`.
 *
 * Keywords: $ref (#/definitions/), type, const, enum, required, properties, additionalProperties,
 * items, anyOf / oneOf (+ discriminator), minItems / maxItems, minLength / maxLength,
 * minimum / maximum, pattern, format uri / uuid. Any other keyword is refused when the validator
 * is built, so a schema is never half checked.
 */
import type { JsonSchema, JsonType } from "./contract/line-contract-types.js";

/**
 * `unknown-property`, `type` and `discriminator` are what LINE reports as "The property, ..., is
 * invalid"; the rest are bean-validation errors ("The request body has N error(s)").
 */
export type IssueKind =
  | "required"
  | "unknown-property"
  | "type"
  | "discriminator"
  | "enum"
  | "size"
  | "range"
  | "pattern"
  | "format"
  | "limit";

export interface ValidationIssue {
  /** LINE-style path: `messages[0].contents.body.contents[1].action.label`. */
  property: string;
  message: string;
  kind: IssueKind;
}

export interface SchemaDocument {
  definitions: Record<string, JsonSchema>;
}

const KNOWN_KEYWORDS = new Set([
  "$ref", "$comment", "description", "type", "const", "enum", "required", "properties", "additionalProperties", "items",
  "anyOf", "oneOf", "discriminator", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "pattern", "format",
]);
const FORMATS = new Set(["uri", "uuid"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFINITIONS = "#/definitions/";

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sizeMessage(min: number | undefined, max: number | undefined): string {
  if (max !== undefined) return `size must be between ${min ?? 0} and ${max}`;
  return `size must be at least ${min}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? "an" : "a";
}

/** The same problem at the same property is reported once. */
export function dedupeIssues(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.property}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function hasType(type: JsonType, value: unknown): boolean {
  switch (type) {
    case "object":
      return isPlainObject(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
  }
}

export class SchemaValidator {
  private readonly patterns = new Map<string, RegExp>();

  constructor(private readonly doc: SchemaDocument) {
    for (const [name, schema] of Object.entries(doc.definitions)) this.audit(schema, name);
  }

  /** A named definition. */
  schema(name: string): JsonSchema {
    const schema = this.doc.definitions[name];
    if (!schema) throw new Error(`no definition named ${name} in the schema document`);
    return schema;
  }

  validate(schema: JsonSchema | string, value: unknown, basePath = ""): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    this.check(typeof schema === "string" ? this.schema(schema) : schema, value, basePath, issues);
    return dedupeIssues(issues);
  }

  /** Refuses keywords this validator does not enforce, and references to nothing. */
  private audit(schema: JsonSchema, at: string): void {
    for (const keyword of Object.keys(schema)) {
      if (!KNOWN_KEYWORDS.has(keyword)) throw new Error(`unsupported JSON Schema keyword ${keyword} at ${at}`);
    }
    if (schema.$ref) this.resolve(schema.$ref);
    if (schema.format && !FORMATS.has(schema.format)) throw new Error(`unsupported format ${schema.format} at ${at}`);
    for (const [name, child] of Object.entries(schema.properties ?? {})) this.audit(child, `${at}.${name}`);
    if (typeof schema.additionalProperties === "object") this.audit(schema.additionalProperties, `${at}.*`);
    if (schema.items) this.audit(schema.items, `${at}[]`);
    for (const [index, member] of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].entries()) this.audit(member, `${at}|${index}`);
    for (const ref of Object.values(schema.discriminator?.mapping ?? {})) this.resolve(ref);
  }

  private resolve(ref: string): JsonSchema {
    if (!ref.startsWith(DEFINITIONS)) throw new Error(`unsupported $ref ${ref}`);
    return this.schema(decodeURIComponent(ref.slice(DEFINITIONS.length)));
  }

  private deref(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let depth = 0; current.$ref; depth++) {
      if (depth > 32) throw new Error(`$ref loop at ${schema.$ref}`);
      current = this.resolve(current.$ref);
    }
    return current;
  }

  private check(input: JsonSchema, value: unknown, path: string, issues: ValidationIssue[]): void {
    const schema = this.deref(input);
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

    if (value === null && !types.includes("null")) {
      issues.push({ property: path, message: "must not be null", kind: "type" });
      return;
    }
    if (schema.discriminator) {
      this.dispatch(schema, value, path, issues);
      return;
    }
    if (schema.anyOf || schema.oneOf) this.checkAlternatives(schema, value, path, issues);

    if (types.length > 0 && !types.some((type) => hasType(type, value))) {
      const expected = types.filter((type) => type !== "null").join(" or ");
      issues.push({ property: path, message: `must be ${article(expected)} ${expected}`, kind: "type" });
      return;
    }
    // A literal type in the SDK is a discriminator tag (`type: "button"`): a wrong one is structural, as at LINE.
    if (schema.const !== undefined && value !== schema.const) {
      issues.push({ property: path, message: `invalid type '${String(value)}'; expected ${String(schema.const)}`, kind: "discriminator" });
      return;
    }
    if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
      issues.push({ property: path, message: `must be one of [${schema.enum.join(", ")}]`, kind: "enum" });
    }

    if (isPlainObject(value)) this.checkObject(schema, value, path, issues);
    else if (Array.isArray(value)) this.checkArray(schema, value, path, issues);
    else if (typeof value === "string") this.checkString(schema, value, path, issues);
    else if (typeof value === "number") this.checkNumber(schema, value, path, issues);
  }

  /** A union with a discriminator: the tag picks the member; a missing or unknown tag is the error. */
  private dispatch(union: JsonSchema, value: unknown, path: string, issues: ValidationIssue[]): void {
    const { propertyName, mapping } = union.discriminator!;
    if (!isPlainObject(value)) {
      issues.push({ property: path, message: "must be an object", kind: "type" });
      return;
    }
    const tag = value[propertyName];
    const tagPath = joinPath(path, propertyName);
    if (tag === undefined || tag === null) {
      issues.push({ property: tagPath, message: "must be specified", kind: "required" });
      return;
    }
    const target = typeof tag === "string" && Object.hasOwn(mapping, tag) ? mapping[tag] : undefined;
    if (!target) {
      issues.push({
        property: tagPath,
        message: `invalid type '${String(tag)}'; expected one of [${Object.keys(mapping).join(", ")}]`,
        kind: "discriminator",
      });
      return;
    }
    this.check(this.resolve(target), value, path, issues);
  }

  private checkAlternatives(schema: JsonSchema, value: unknown, path: string, issues: ValidationIssue[]): void {
    const options = schema.oneOf ?? schema.anyOf ?? [];
    const results = options.map((option) => {
      const found: ValidationIssue[] = [];
      this.check(option, value, path, found);
      return found;
    });
    const passing = results.filter((found) => found.length === 0).length;
    if (schema.oneOf ? passing === 1 : passing >= 1) return;
    if (passing > 1) {
      issues.push({ property: path, message: "matches more than one allowed form", kind: "type" });
      return;
    }
    // Report the alternative that came closest, so the message names a concrete property.
    const closest = results.reduce((best, found) => (found.length < best.length ? found : best));
    issues.push(...closest);
  }

  private checkObject(schema: JsonSchema, value: Record<string, unknown>, path: string, issues: ValidationIssue[]): void {
    // A wrong tag (a box where only a bubble may be) says the object is another type: its other properties are moot.
    for (const [name, propertySchema] of Object.entries(schema.properties ?? {})) {
      const tag = value[name];
      if (propertySchema.const === undefined || tag === undefined || tag === null || tag === propertySchema.const) continue;
      this.check(propertySchema, tag, joinPath(path, name), issues);
      return;
    }
    for (const name of schema.required ?? []) {
      if (value[name] === undefined || value[name] === null) {
        issues.push({ property: joinPath(path, name), message: "must be specified", kind: "required" });
      }
    }
    const declared = schema.properties ?? {};
    for (const [name, propertySchema] of Object.entries(declared)) {
      const child = value[name];
      // LINE treats an explicit null like an absent optional property.
      if (child === undefined || child === null) continue;
      this.check(propertySchema, child, joinPath(path, name), issues);
    }
    const extra = schema.additionalProperties;
    if (extra === undefined || extra === true) return;
    for (const [name, child] of Object.entries(value)) {
      if (Object.hasOwn(declared, name)) continue;
      if (extra === false) issues.push({ property: joinPath(path, name), message: "invalid property", kind: "unknown-property" });
      else this.check(extra, child, joinPath(path, name), issues);
    }
  }

  private checkArray(schema: JsonSchema, value: unknown[], path: string, issues: ValidationIssue[]): void {
    const { minItems, maxItems } = schema;
    if ((minItems !== undefined && value.length < minItems) || (maxItems !== undefined && value.length > maxItems)) {
      issues.push({ property: path, message: sizeMessage(minItems, maxItems), kind: "size" });
    }
    if (schema.items) value.forEach((item, index) => this.check(schema.items!, item, joinPath(path, index), issues));
  }

  private checkString(schema: JsonSchema, value: string, path: string, issues: ValidationIssue[]): void {
    const { minLength, maxLength } = schema;
    // UTF-16 units, as LINE's Java validators count: an emoji is two characters.
    const length = value.length;
    if ((minLength !== undefined && length < minLength) || (maxLength !== undefined && length > maxLength)) {
      issues.push({ property: path, message: sizeMessage(minLength, maxLength), kind: "size" });
    }
    if (schema.pattern && !this.pattern(schema.pattern).test(value)) {
      issues.push({ property: path, message: `must match "${schema.pattern}"`, kind: "pattern" });
    }
    if (schema.format === "uri" && !URL.canParse(value)) {
      issues.push({ property: path, message: "invalid uri", kind: "format" });
    }
    if (schema.format === "uuid" && !UUID.test(value)) {
      issues.push({ property: path, message: "must be a UUID", kind: "format" });
    }
  }

  private checkNumber(schema: JsonSchema, value: number, path: string, issues: ValidationIssue[]): void {
    if (schema.minimum !== undefined && value < schema.minimum) {
      issues.push({ property: path, message: `must be greater than or equal to ${schema.minimum}`, kind: "range" });
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      issues.push({ property: path, message: `must be less than or equal to ${schema.maximum}`, kind: "range" });
    }
  }

  private pattern(source: string): RegExp {
    let regex = this.patterns.get(source);
    if (!regex) {
      regex = new RegExp(source, "u");
      this.patterns.set(source, regex);
    }
    return regex;
  }
}

const validators = new WeakMap<SchemaDocument, SchemaValidator>();

/** One validator per document, so its caches are shared by every emulator instance. */
export function validatorFor(doc: SchemaDocument): SchemaValidator {
  let validator = validators.get(doc);
  if (!validator) {
    validator = new SchemaValidator(doc);
    validators.set(doc, validator);
  }
  return validator;
}
