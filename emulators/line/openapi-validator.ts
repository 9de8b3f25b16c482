/**
 * A small validator for the OpenAPI 3.0 schema subset that LINE's specs use. It is stricter than
 * JSON Schema by default in one way, as the real API is: a property that no schema in the allOf
 * chain declares is an error (LINE's deserializer rejects unknown properties).
 *
 * Supported: $ref (local), allOf, oneOf, anyOf, discriminator (+ mapping), type, nullable,
 * required, enum, properties, additionalProperties, items, minItems/maxItems,
 * minLength/maxLength, minimum/maximum (+ exclusive), pattern, format uri / uuid.
 */

export interface SchemaObject {
  $ref?: string;
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  nullable?: boolean;
  required?: string[];
  properties?: Record<string, SchemaObject>;
  additionalProperties?: boolean | SchemaObject;
  items?: SchemaObject;
  allOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  anyOf?: SchemaObject[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  enum?: unknown[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  pattern?: string;
  format?: string;
}

interface OperationObject {
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, SchemaObject> };
}

/**
 * `unknown-property` and `type` are what LINE reports as "The property, ..., is invalid";
 * the rest are bean-validation errors ("The request body has N error(s)").
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

interface Context {
  /** Set while checking a member of an allOf: the caller checks unknown properties for the whole chain. */
  inAllOf: boolean;
  /** Set for a discriminator base reached through a subtype's allOf: do not dispatch again. */
  skipDiscriminator: boolean;
}

const TOP: Context = { inAllOf: false, skipDiscriminator: false };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

export class OpenApiValidator {
  private readonly patterns = new Map<string, RegExp>();
  private readonly declared = new WeakMap<SchemaObject, { names: Set<string>; open: boolean }>();

  constructor(private readonly doc: OpenApiDocument) {}

  /** A named schema of `components.schemas`. */
  schema(name: string): SchemaObject {
    const schema = this.doc.components?.schemas?.[name];
    if (!schema) throw new Error(`no schema named ${name} in the OpenAPI document`);
    return schema;
  }

  /** The request body schema of an operation, or undefined when the spec declares none. */
  requestBodySchema(path: string, method: string, contentType = "application/json"): SchemaObject | undefined {
    return this.doc.paths?.[path]?.[method.toLowerCase()]?.requestBody?.content?.[contentType]?.schema;
  }

  validate(schema: SchemaObject | string, value: unknown, basePath = ""): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const root = typeof schema === "string" ? this.schema(schema) : schema;
    this.check(root, value, basePath, TOP, issues);
    return dedupeIssues(issues);
  }

  private resolve(ref: string): SchemaObject {
    const prefix = "#/components/schemas/";
    if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref}`);
    return this.schema(ref.slice(prefix.length));
  }

  private deref(schema: SchemaObject): SchemaObject {
    let current = schema;
    for (let depth = 0; current.$ref; depth++) {
      if (depth > 32) throw new Error(`$ref loop at ${schema.$ref}`);
      current = this.resolve(current.$ref);
    }
    return current;
  }

  private check(input: SchemaObject, value: unknown, path: string, ctx: Context, issues: ValidationIssue[]): void {
    const schema = this.deref(input);

    if (value === null) {
      if (!schema.nullable) issues.push({ property: path, message: "must not be null", kind: "type" });
      return;
    }

    if (schema.discriminator && !ctx.skipDiscriminator) {
      this.dispatch(schema, value, path, issues);
      return;
    }

    if (schema.allOf) {
      for (const member of schema.allOf) {
        const resolved = this.deref(member);
        if (resolved.discriminator && !ctx.inAllOf) this.checkSubtypeTag(schema, resolved, value, path, issues);
        this.check(member, value, path, { inAllOf: true, skipDiscriminator: true }, issues);
      }
    }
    if (schema.oneOf || schema.anyOf) this.checkAlternatives(schema, value, path, issues);

    const type = schema.type ?? (schema.properties || schema.required ? "object" : undefined);
    if (type && !this.hasType(type, value)) {
      issues.push({ property: path, message: `must be ${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`, kind: "type" });
      return;
    }

    if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
      issues.push({ property: path, message: `must be one of [${schema.enum.join(", ")}]`, kind: "enum" });
    }

    if (isPlainObject(value)) this.checkObject(schema, value, path, ctx, issues);
    else if (Array.isArray(value)) this.checkArray(schema, value, path, issues);
    else if (typeof value === "string") this.checkString(schema, value, path, issues);
    else if (typeof value === "number") this.checkNumber(schema, value, path, issues);
  }

  private hasType(type: NonNullable<SchemaObject["type"]>, value: unknown): boolean {
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
    }
  }

  /** A base schema with a discriminator: the tag picks the subtype; an unknown tag is an error. */
  private dispatch(base: SchemaObject, value: unknown, path: string, issues: ValidationIssue[]): void {
    const { propertyName, mapping } = base.discriminator!;
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
    const target = typeof tag === "string" ? this.subtypeFor(base, tag) : undefined;
    if (!target) {
      issues.push({
        property: tagPath,
        message: `invalid type '${String(tag)}'; expected one of [${Object.keys(mapping ?? {}).join(", ")}]`,
        kind: "discriminator",
      });
      return;
    }
    if (target === base) {
      this.check(base, value, path, { inAllOf: false, skipDiscriminator: true }, issues);
      return;
    }
    this.check(target, value, path, TOP, issues);
  }

  private subtypeFor(base: SchemaObject, tag: string): SchemaObject | undefined {
    const ref = base.discriminator?.mapping?.[tag];
    if (ref) return this.resolve(ref);
    return this.doc.components?.schemas?.[tag];
  }

  /** A subtype used directly (e.g. carousel contents: FlexBubble) must carry its own tag. */
  private checkSubtypeTag(
    subtype: SchemaObject,
    base: SchemaObject,
    value: unknown,
    path: string,
    issues: ValidationIssue[],
  ): void {
    if (!isPlainObject(value)) return;
    const { propertyName, mapping } = base.discriminator!;
    const tag = value[propertyName];
    if (typeof tag !== "string") return; // a missing tag is reported by the base's `required`
    if (this.subtypeFor(base, tag) === subtype) return;
    const allowed = Object.entries(mapping ?? {})
      .filter(([, ref]) => this.resolve(ref) === subtype)
      .map(([name]) => name);
    issues.push({
      property: joinPath(path, propertyName),
      message: `invalid type '${tag}'; expected ${allowed.length ? allowed.join(" or ") : "another type"}`,
      kind: "discriminator",
    });
  }

  private checkAlternatives(schema: SchemaObject, value: unknown, path: string, issues: ValidationIssue[]): void {
    const options = schema.oneOf ?? schema.anyOf ?? [];
    const results = options.map((option) => {
      const found: ValidationIssue[] = [];
      this.check(option, value, path, TOP, found);
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

  /** Every property name declared along the allOf chain; `open` when extra properties are allowed. */
  private declaredProperties(schema: SchemaObject): { names: Set<string>; open: boolean } {
    const cached = this.declared.get(schema);
    if (cached) return cached;
    const result = { names: new Set<string>(), open: false };
    this.declared.set(schema, result); // guards against cycles
    const visit = (node: SchemaObject) => {
      const resolved = this.deref(node);
      for (const name of Object.keys(resolved.properties ?? {})) result.names.add(name);
      if (resolved.additionalProperties !== undefined && resolved.additionalProperties !== false) result.open = true;
      if (resolved.discriminator) result.names.add(resolved.discriminator.propertyName);
      for (const member of resolved.allOf ?? []) visit(member);
    };
    visit(schema);
    // A bare `type: object` declares nothing: there is nothing to hold extra properties against.
    if (result.names.size === 0) result.open = true;
    return result;
  }

  private checkObject(
    schema: SchemaObject,
    value: Record<string, unknown>,
    path: string,
    ctx: Context,
    issues: ValidationIssue[],
  ): void {
    for (const name of schema.required ?? []) {
      if (value[name] === undefined || value[name] === null) {
        issues.push({ property: joinPath(path, name), message: "must be specified", kind: "required" });
      }
    }
    for (const [name, propertySchema] of Object.entries(schema.properties ?? {})) {
      const child = value[name];
      // LINE treats an explicit null like an absent optional property.
      if (child === undefined || child === null) continue;
      this.check(propertySchema, child, joinPath(path, name), TOP, issues);
    }
    const extra = schema.additionalProperties;
    if (extra && typeof extra === "object") {
      for (const [name, child] of Object.entries(value)) {
        if (schema.properties && name in schema.properties) continue;
        this.check(extra, child, joinPath(path, name), TOP, issues);
      }
    }
    if (ctx.inAllOf) return;
    const declared = this.declaredProperties(schema);
    if (declared.open) return;
    for (const name of Object.keys(value)) {
      if (!declared.names.has(name)) {
        issues.push({ property: joinPath(path, name), message: "invalid property", kind: "unknown-property" });
      }
    }
  }

  private checkArray(schema: SchemaObject, value: unknown[], path: string, issues: ValidationIssue[]): void {
    const { minItems, maxItems } = schema;
    if ((minItems !== undefined && value.length < minItems) || (maxItems !== undefined && value.length > maxItems)) {
      issues.push({ property: path, message: sizeMessage(minItems, maxItems), kind: "size" });
    }
    if (schema.items) value.forEach((item, index) => this.check(schema.items!, item, joinPath(path, index), TOP, issues));
  }

  private checkString(schema: SchemaObject, value: string, path: string, issues: ValidationIssue[]): void {
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

  private checkNumber(schema: SchemaObject, value: number, path: string, issues: ValidationIssue[]): void {
    const { minimum, maximum } = schema;
    if (minimum !== undefined && (schema.exclusiveMinimum ? value <= minimum : value < minimum)) {
      const relation = schema.exclusiveMinimum ? "greater than" : "greater than or equal to";
      issues.push({ property: path, message: `must be ${relation} ${minimum}`, kind: "range" });
    }
    if (maximum !== undefined && (schema.exclusiveMaximum ? value >= maximum : value > maximum)) {
      const relation = schema.exclusiveMaximum ? "less than" : "less than or equal to";
      issues.push({ property: path, message: `must be ${relation} ${maximum}`, kind: "range" });
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

const validators = new WeakMap<OpenApiDocument, OpenApiValidator>();

/** One validator per parsed document, so its caches are shared by every emulator instance. */
export function validatorFor(doc: OpenApiDocument): OpenApiValidator {
  let validator = validators.get(doc);
  if (!validator) {
    validator = new OpenApiValidator(doc);
    validators.set(doc, validator);
  }
  return validator;
}
