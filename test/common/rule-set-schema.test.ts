import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseRuleSet } from "../../common/rules/parse-rule-set.js";
import { ruleSetJsonSchemaText } from "../../common/rules/rule-set-json-schema.js";

const schemaFile = fileURLToPath(new URL("../../common/rules/rule-set.schema.json", import.meta.url));
const fixturesDir = fileURLToPath(new URL("./fixtures/rule-sets/", import.meta.url));

const committed = readFileSync(schemaFile, "utf8");
const validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(committed) as object);

function fixtures(folder: "valid" | "invalid" | "cross-item"): Array<[string, unknown]> {
  const dir = `${fixturesDir}${folder}/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(dir + f, "utf8")) as unknown]);
}

describe("rule-set.schema.json", () => {
  it("is what `npm run schema` generates from the zod schema (run it when this fails)", () => {
    expect(committed).toBe(ruleSetJsonSchemaText());
  });

  it("says in its description what it cannot check", () => {
    const schema = JSON.parse(committed) as { description: string; $schema: string };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.description).toMatch(/rule ids unique/);
  });

  it("has fixtures in every folder", () => {
    expect(fixtures("valid").length).toBeGreaterThanOrEqual(3);
    expect(fixtures("invalid").length).toBeGreaterThanOrEqual(20);
    expect(fixtures("cross-item").length).toBeGreaterThanOrEqual(2);
  });

  describe("ajv and parseRuleSet agree", () => {
    it.each(fixtures("valid"))("valid: %s", (_name, value) => {
      expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
      expect(parseRuleSet(value)).toMatchObject({ ok: true });
      expect(parseRuleSet(JSON.stringify(value))).toMatchObject({ ok: true });
    });

    it.each(fixtures("invalid"))("invalid: %s", (_name, value) => {
      expect(validate(value)).toBe(false);
      const result = parseRuleSet(value);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
    });

    // Cross-item checks (unique ids) are beyond JSON Schema: ajv accepts, parseRuleSet refuses.
    it.each(fixtures("cross-item"))("cross-item (schema accepts, parser refuses): %s", (_name, value) => {
      expect(validate(value)).toBe(true);
      const result = parseRuleSet(value);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors[0]?.message).toMatch(/^duplicate (rule|button) id /);
    });
  });
});
