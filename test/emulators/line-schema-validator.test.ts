import { describe, expect, it } from "vitest";
import { SchemaValidator, type SchemaDocument } from "../../emulators/line/schema-validator.js";

/**
 * A miniature of what the contract generator emits from the SDK's types: a union of tagged object
 * types (marked with a discriminator), closed objects, enums as their own definitions, literal tags.
 */
const doc: SchemaDocument = {
  definitions: {
    Shape: {
      anyOf: [{ $ref: "#/definitions/Circle" }, { $ref: "#/definitions/Box" }],
      discriminator: { propertyName: "kind", mapping: { circle: "#/definitions/Circle", box: "#/definitions/Box" } },
    },
    Circle: {
      type: "object",
      additionalProperties: false,
      properties: { kind: { type: "string", const: "circle" }, label: { type: "string", maxLength: 5 }, radius: { type: "number", minimum: 0 } },
      required: ["kind", "radius"],
    },
    Box: {
      type: "object",
      additionalProperties: false,
      properties: {
        kind: { type: "string", const: "box" },
        label: { type: "string", maxLength: 5 },
        children: { type: "array", maxItems: 2, items: { $ref: "#/definitions/Shape" } },
        only: { type: "array", items: { $ref: "#/definitions/Circle" } },
        mode: { $ref: "#/definitions/Box.ModeEnum" },
        code: { type: "string", pattern: "^[a-z]+$" },
        link: { type: "string", format: "uri" },
        count: { type: "integer" },
      },
      required: ["kind"],
    },
    "Box.ModeEnum": { type: "string", enum: ["a", "b"] },
    Free: { type: "object" },
    Map: { type: "object", additionalProperties: { type: "integer" } },
    Either: { anyOf: [{ $ref: "#/definitions/Circle" }, { type: "string" }] },
    Exclusive: { oneOf: [{ $ref: "#/definitions/Circle" }, { $ref: "#/definitions/Free" }] },
  },
};

const validator = new SchemaValidator(doc);
const check = (schema: string, value: unknown) => validator.validate(schema, value, "root").map(({ property, message }) => ({ property, message }));

describe("contract schema validator", () => {
  it("dispatches on the discriminator and checks the member", () => {
    expect(check("Shape", { kind: "circle", radius: 2, label: "ok" })).toEqual([]);
    expect(check("Shape", { kind: "circle", label: "toolong" })).toEqual([
      { property: "root.radius", message: "must be specified" },
      { property: "root.label", message: "size must be between 0 and 5" },
    ]);
  });

  it("rejects an unknown tag, a missing tag, and a tag that does not fit a member used directly", () => {
    expect(check("Shape", { kind: "triangle" })).toEqual([
      { property: "root.kind", message: "invalid type 'triangle'; expected one of [circle, box]" },
    ]);
    expect(check("Shape", {})).toEqual([{ property: "root.kind", message: "must be specified" }]);
    expect(check("Box", { kind: "box", only: [{ kind: "box", radius: 1 }] })).toEqual([
      { property: "root.only[0].kind", message: "invalid type 'box'; expected circle" },
    ]);
  });

  it("rejects properties a closed object does not declare, at any depth", () => {
    expect(check("Box", { kind: "box", children: [{ kind: "circle", radius: 1, colour: "red" }], extra: 1 })).toEqual([
      { property: "root.children[0].colour", message: "invalid property" },
      { property: "root.extra", message: "invalid property" },
    ]);
  });

  it("checks items, enum, pattern, format, minimum, integers and types; null is not a value", () => {
    const issues = check("Box", {
      kind: "box",
      children: [{ kind: "circle", radius: -1 }, { kind: "box" }, { kind: "box" }],
      mode: "c",
      code: "ABC",
      link: "not a uri",
      count: 1.5,
    });
    expect(issues).toEqual([
      { property: "root.children", message: "size must be between 0 and 2" },
      { property: "root.children[0].radius", message: "must be greater than or equal to 0" },
      { property: "root.mode", message: "must be one of [a, b]" },
      { property: "root.code", message: 'must match "^[a-z]+$"' },
      { property: "root.link", message: "invalid uri" },
      { property: "root.count", message: "must be an integer" },
    ]);
    expect(check("Circle", { kind: "circle", radius: "2" })).toEqual([{ property: "root.radius", message: "must be a number" }]);
    expect(check("Box", { kind: "box", children: [null] })).toEqual([{ property: "root.children[0]", message: "must not be null" }]);
    // An explicit null for an optional property counts as absent, as at LINE.
    expect(check("Box", { kind: "box", label: null })).toEqual([]);
  });

  it("leaves objects without additionalProperties open, checks a value schema, and supports anyOf / oneOf", () => {
    expect(check("Free", { anything: true })).toEqual([]);
    expect(check("Map", { a: 1, b: "x" })).toEqual([{ property: "root.b", message: "must be an integer" }]);
    expect(check("Either", "text")).toEqual([]);
    expect(check("Either", { kind: "circle" })).toEqual([{ property: "root.radius", message: "must be specified" }]);
    expect(check("Exclusive", { kind: "circle", radius: 1 })).toEqual([{ property: "root", message: "matches more than one allowed form" }]);
  });

  it("refuses a schema it could only half check", () => {
    expect(() => new SchemaValidator({ definitions: { A: { allOf: [] } as never } })).toThrow(/unsupported JSON Schema keyword allOf at A/);
    expect(() => new SchemaValidator({ definitions: { A: { $ref: "#/definitions/B" } } })).toThrow(/no definition named B/);
  });
});
