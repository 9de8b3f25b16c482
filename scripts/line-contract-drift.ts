/**
 * Compares the LINE emulator's contract (generated from @line/bot-sdk's types) and its documented
 * limits with LINE's OpenAPI specs: for every definition the emulator relies on, the same property
 * names, required properties, enums, discriminator tags and mapping, and the same size / length /
 * pattern / integer / URI constraints as message-limits.ts lays on. Pure: the caller reads the files.
 */
import type { JsonSchema, LineContract } from "../emulators/line/contract/line-contract-types.js";
import type { SchemaLimit } from "../emulators/line/message-limits.js";

/** The part of an OpenAPI 3.0 document the comparison reads. */
export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  required?: string[];
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  enum?: unknown[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> } }>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

export interface Drift {
  schema: string;
  property?: string;
  problem: string;
}

export function formatDrift({ schema, property, problem }: Drift): string {
  return `${schema}${property ? `.${property}` : ""}: ${problem}`;
}

const CONSTRAINTS = ["minItems", "maxItems", "minLength", "maxLength", "pattern"] as const;

const list = (values: Iterable<unknown>) => [...values].map(String).join(", ");

function lastSegment(ref: string): string {
  return decodeURIComponent(ref.slice(ref.lastIndexOf("/") + 1));
}

class Comparison {
  readonly drifts: Drift[] = [];
  private readonly specSchemas = new Map<string, OpenApiSchema>();
  /** Contract definitions whose LINE counterpart is an unnamed request body. */
  private readonly inline = new Map<string, OpenApiSchema>();

  constructor(
    private readonly contract: LineContract,
    private readonly specs: OpenApiDocument[],
    private readonly limits: Readonly<Record<string, SchemaLimit>>,
  ) {
    for (const doc of specs) {
      for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
        if (!this.specSchemas.has(name)) this.specSchemas.set(name, schema);
      }
    }
  }

  private add(schema: string, property: string | undefined, problem: string): void {
    this.drifts.push({ schema, ...(property ? { property } : {}), problem });
  }

  private specDeref(schema: OpenApiSchema): OpenApiSchema {
    let current = schema;
    for (let depth = 0; current.$ref && depth < 32; depth++) current = this.specSchemas.get(lastSegment(current.$ref)) ?? {};
    return current;
  }

  private contractDeref(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let depth = 0; current.$ref && depth < 32; depth++) current = this.contract.definitions[lastSegment(current.$ref)] ?? {};
    return current;
  }

  compareOperations(): void {
    for (const [operation, { contentType, schema: name }] of Object.entries(this.contract.operations)) {
      const [method = "", path = ""] = operation.split(" ");
      const body = this.specs
        .map((doc) => doc.paths?.[path]?.[method.toLowerCase()]?.requestBody?.content?.[contentType]?.schema)
        .find((found) => found !== undefined);
      if (!body) {
        this.add(operation, undefined, `LINE's specs have no ${contentType} request body for it`);
      } else if (body.$ref) {
        if (lastSegment(body.$ref) !== name) this.add(operation, undefined, `body is ${lastSegment(body.$ref)} in LINE's spec, ${name} in the contract`);
      } else {
        this.inline.set(name, body);
      }
    }
  }

  compareDefinitions(): void {
    for (const [name, definition] of Object.entries(this.contract.definitions)) {
      if (name.includes(".")) continue; // an enum alias (FlexButton.StyleEnum): compared with its property
      const spec = this.inline.get(name) ?? this.specSchemas.get(name);
      if (!spec) {
        this.add(name, undefined, "no schema of this name in LINE's specs");
        continue;
      }
      if (definition.anyOf || definition.oneOf) this.compareUnion(name, definition, spec);
      else this.compareObject(name, definition, spec);
    }
  }

  private compareUnion(name: string, definition: JsonSchema, spec: OpenApiSchema): void {
    const members = (definition.anyOf ?? definition.oneOf ?? []).map((member) => lastSegment(member.$ref ?? ""));
    if (spec.discriminator) {
      const ours = definition.discriminator;
      if (!ours) {
        this.add(name, undefined, `LINE's spec discriminates on ${spec.discriminator.propertyName}; the contract's union has no discriminator`);
        return;
      }
      if (ours.propertyName !== spec.discriminator.propertyName) {
        this.add(name, undefined, `discriminator is ${spec.discriminator.propertyName} in LINE's spec, ${ours.propertyName} in the contract`);
      }
      const theirs = Object.fromEntries(Object.entries(spec.discriminator.mapping ?? {}).map(([tag, ref]) => [tag, lastSegment(ref)]));
      const mine = Object.fromEntries(Object.entries(ours.mapping).map(([tag, ref]) => [tag, lastSegment(ref)]));
      for (const tag of new Set([...Object.keys(theirs), ...Object.keys(mine)])) {
        if (theirs[tag] === mine[tag]) continue;
        const problem =
          mine[tag] === undefined
            ? `LINE's spec maps '${tag}' to ${theirs[tag]}; the contract has no such member`
            : theirs[tag] === undefined
              ? `the contract maps '${tag}' to ${mine[tag]}; LINE's spec does not know that tag`
              : `'${tag}' is ${theirs[tag]} in LINE's spec, ${mine[tag]} in the contract`;
        this.add(name, ours.propertyName, problem);
      }
      return;
    }
    const alternatives = spec.oneOf ?? spec.anyOf;
    if (!alternatives) {
      this.add(name, undefined, "a union in the contract, not in LINE's spec");
      return;
    }
    const theirs = alternatives.map((member) => lastSegment(member.$ref ?? ""));
    if ([...theirs].sort().join() !== [...members].sort().join()) {
      this.add(name, undefined, `members are [${list(theirs)}] in LINE's spec, [${list(members)}] in the contract`);
    }
  }

  /** Properties, required names and discriminator tags along a spec schema's allOf chain. */
  private flatten(schema: OpenApiSchema) {
    const result = {
      properties: new Map<string, OpenApiSchema>(),
      required: new Set<string>(),
      tags: new Map<string, Record<string, string>>(),
    };
    const visit = (node: OpenApiSchema, depth: number) => {
      if (depth > 32) return;
      const resolved = this.specDeref(node);
      for (const part of resolved.allOf ?? []) visit(part, depth + 1);
      for (const [key, value] of Object.entries(resolved.properties ?? {})) if (!result.properties.has(key)) result.properties.set(key, value);
      for (const key of resolved.required ?? []) result.required.add(key);
      if (resolved.discriminator) {
        // OpenAPI requires the tag property of every member.
        result.required.add(resolved.discriminator.propertyName);
        result.tags.set(resolved.discriminator.propertyName, resolved.discriminator.mapping ?? {});
      }
    };
    visit(schema, 0);
    return result;
  }

  private compareObject(name: string, definition: JsonSchema, spec: OpenApiSchema): void {
    const theirs = this.flatten(spec);
    const mine = definition.properties ?? {};
    for (const key of theirs.properties.keys()) if (!(key in mine)) this.add(name, key, "in LINE's spec, missing from the contract");
    for (const key of Object.keys(mine)) if (!theirs.properties.has(key)) this.add(name, key, "in the contract, not in LINE's spec");
    const required = new Set(definition.required ?? []);
    for (const key of theirs.required) if (!required.has(key)) this.add(name, key, "required in LINE's spec, optional in the contract");
    for (const key of required) if (!theirs.required.has(key)) this.add(name, key, "required in the contract, optional in LINE's spec");

    for (const [key, ours] of Object.entries(mine)) {
      const specProperty = theirs.properties.get(key);
      if (!specProperty) continue;
      const mapping = theirs.tags.get(key);
      if (mapping) {
        const tags = Object.entries(mapping).filter(([, ref]) => lastSegment(ref) === name).map(([tag]) => tag);
        const literal = this.contractDeref(ours).const;
        if (!tags.includes(String(literal))) {
          this.add(name, key, `tag is ${tags.length ? tags.map((tag) => `'${tag}'`).join(" or ") : "not mapped"} in LINE's spec, '${String(literal)}' in the contract`);
        }
        continue;
      }
      this.compareEnum(name, key, specProperty, ours);
      this.compareConstraints(name, key, specProperty, `${name}.${key}`);
      const specItems = this.specDeref(specProperty).items;
      if (specItems) {
        this.compareEnum(name, `${key}[]`, specItems, this.contractDeref(ours).items ?? {});
        this.compareConstraints(name, `${key}[]`, specItems, `${name}.${key}[]`);
      }
    }
  }

  private compareEnum(name: string, key: string, specProperty: OpenApiSchema, ours: JsonSchema): void {
    const spec = this.specDeref(specProperty).enum;
    const resolved = this.contractDeref(ours);
    const contract = resolved.enum ?? (resolved.const !== undefined ? [resolved.const] : undefined);
    if (!spec && !contract) return;
    const theirs = new Set((spec ?? []).map(String));
    const mine = new Set((contract ?? []).map(String));
    const onlySpec = [...theirs].filter((value) => !mine.has(value));
    const onlyContract = [...mine].filter((value) => !theirs.has(value));
    if (!spec) this.add(name, key, `an enum [${list(mine)}] in the contract, free in LINE's spec`);
    else if (!contract) this.add(name, key, `an enum [${list(theirs)}] in LINE's spec, free in the contract`);
    else if (onlySpec.length || onlyContract.length) {
      const parts = [onlySpec.length ? `only in LINE's spec: ${list(onlySpec)}` : "", onlyContract.length ? `only in the contract: ${list(onlyContract)}` : ""];
      this.add(name, key, `enum differs (${parts.filter(Boolean).join("; ")})`);
    }
  }

  /** LINE's constraints the SDK's types cannot carry must be in message-limits.ts, with the same values. */
  private compareConstraints(name: string, key: string, specProperty: OpenApiSchema, limitKey: string): void {
    const spec = this.specDeref(specProperty);
    const limit: SchemaLimit = this.limits[limitKey] ?? {};
    const expected: Record<string, unknown> = {};
    const actual: Record<string, unknown> = {};
    for (const keyword of CONSTRAINTS) {
      expected[keyword] = spec[keyword];
      actual[keyword] = limit[keyword];
    }
    expected.format = spec.format === "uri" || spec.format === "uuid" ? spec.format : undefined;
    actual.format = limit.format;
    expected.type = spec.type === "integer" ? "integer" : undefined;
    actual.type = limit.type;
    for (const keyword of Object.keys(expected)) {
      if (expected[keyword] === actual[keyword]) continue;
      const theirs = expected[keyword] === undefined ? "nothing" : `${keyword} ${String(expected[keyword])}`;
      const ours = actual[keyword] === undefined ? "nothing" : `${keyword} ${String(actual[keyword])}`;
      this.add(name, key, `LINE's spec says ${theirs}; SCHEMA_LIMITS in message-limits.ts says ${ours}`);
    }
  }
}

/** Every difference between the contract (with its documented limits) and LINE's specs; [] when in step. */
export function findContractDrift(
  contract: LineContract,
  specs: OpenApiDocument[],
  limits: Readonly<Record<string, SchemaLimit>>,
): Drift[] {
  const comparison = new Comparison(contract, specs, limits);
  comparison.compareOperations();
  comparison.compareDefinitions();
  return comparison.drifts;
}
