import { describe, expect, it } from "vitest";
import { OpenApiValidator, type OpenApiDocument } from "../../emulators/line/openapi-validator.js";

/** A miniature of the patterns LINE's specs use: a tagged base schema and subtypes that allOf it. */
const doc: OpenApiDocument = {
  components: {
    schemas: {
      Shape: {
        type: "object",
        required: ["kind"],
        properties: { kind: { type: "string" }, label: { type: "string", maxLength: 5 } },
        discriminator: { propertyName: "kind", mapping: { circle: "#/components/schemas/Circle", box: "#/components/schemas/Box" } },
      },
      Circle: {
        type: "object",
        required: ["radius"],
        allOf: [{ $ref: "#/components/schemas/Shape" }, { type: "object", properties: { radius: { type: "number", minimum: 0 } } }],
      },
      Box: {
        type: "object",
        allOf: [
          { $ref: "#/components/schemas/Shape" },
          {
            properties: {
              children: { type: "array", maxItems: 2, items: { $ref: "#/components/schemas/Shape" } },
              only: { type: "array", items: { $ref: "#/components/schemas/Circle" } },
              mode: { type: "string", enum: ["a", "b"] },
              code: { type: "string", pattern: "^[a-z]+$" },
              link: { type: "string", format: "uri" },
            },
          },
        ],
      },
      Free: { type: "object" },
      Map: { type: "object", additionalProperties: { type: "integer" } },
      Either: { oneOf: [{ $ref: "#/components/schemas/Circle" }, { $ref: "#/components/schemas/Free" }] },
    },
  },
};

const validator = new OpenApiValidator(doc);
const check = (schema: string, value: unknown) => validator.validate(schema, value, "root").map(({ property, message }) => ({ property, message }));

describe("OpenAPI validator", () => {
  it("dispatches on the discriminator and checks the subtype with the base's properties", () => {
    expect(check("Shape", { kind: "circle", radius: 2, label: "ok" })).toEqual([]);
    expect(check("Shape", { kind: "circle", label: "toolong" })).toEqual([
      { property: "root.label", message: "size must be between 0 and 5" },
      { property: "root.radius", message: "must be specified" },
    ]);
  });

  it("rejects an unknown tag, a missing tag, and a tag that does not fit a subtype used directly", () => {
    expect(check("Shape", { kind: "triangle" })[0]?.property).toBe("root.kind");
    expect(check("Shape", {})).toEqual([{ property: "root.kind", message: "must be specified" }]);
    expect(check("Box", { kind: "box", only: [{ kind: "box", radius: 1 }] })[0]).toEqual({
      property: "root.only[0].kind",
      message: "invalid type 'box'; expected circle",
    });
  });

  it("rejects properties declared nowhere in the allOf chain, at any depth", () => {
    expect(check("Box", { kind: "box", children: [{ kind: "circle", radius: 1, colour: "red" }], extra: 1 })).toEqual([
      { property: "root.children[0].colour", message: "invalid property" },
      { property: "root.extra", message: "invalid property" },
    ]);
  });

  it("checks items, enum, pattern, format, minimum and types", () => {
    const issues = check("Box", {
      kind: "box",
      children: [{ kind: "circle", radius: -1 }, { kind: "box" }, { kind: "box" }],
      mode: "c",
      code: "ABC",
      link: "not a uri",
    });
    expect(issues).toEqual([
      { property: "root.children", message: "size must be between 0 and 2" },
      { property: "root.children[0].radius", message: "must be greater than or equal to 0" },
      { property: "root.mode", message: "must be one of [a, b]" },
      { property: "root.code", message: 'must match "^[a-z]+$"' },
      { property: "root.link", message: "invalid uri" },
    ]);
    expect(check("Circle", { kind: "circle", radius: "2" })).toEqual([{ property: "root.radius", message: "must be a number" }]);
  });

  it("leaves bare objects open, checks additionalProperties, and supports oneOf", () => {
    expect(check("Free", { anything: true })).toEqual([]);
    expect(check("Map", { a: 1, b: "x" })).toEqual([{ property: "root.b", message: "must be an integer" }]);
    expect(check("Either", { kind: "circle", radius: 1 })).toEqual([{ property: "root", message: "matches more than one allowed form" }]);
    expect(check("Either", "text")).toEqual([{ property: "root", message: "must be an object" }]);
  });
});
