import { describe, expect, it } from "vitest";
import { findJsonSyntaxProblem } from "../../common/rules/json-syntax-error.js";
import { formatPath, parseRuleSet as parseBoth } from "../../common/rules/parse-rule-set.js";

/** The English words, which these cases check; the Japanese ones: test/common/schema-problems-ja.test.ts. */
function parseRuleSet(input: unknown): ReturnType<typeof parseBoth> {
  const result = parseBoth(input);
  return result.ok ? result : { ok: false, errors: result.errors.map(({ path, message }) => ({ path, message })) };
}

function validSet(): { version: number; rules: Array<Record<string, unknown>> } {
  return {
    version: 1,
    rules: [
      {
        id: "r1",
        name: "Approved -> tell the customer",
        trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
        when: { all: [{ field: "priority", op: "eq", value: "High" }] },
        recipients: { fields: ["line_user_id"], ids: ["C0123456789abcdef0123456789abcdef"] },
        message: { title: "Order {{order_no}} approved", fields: ["customer", "amount"], recordLink: true },
        buttons: [
          {
            id: "ack",
            label: "Got it",
            writeBack: {
              set: { ack_status: "Acknowledged" },
              timestampField: "ack_at",
              userField: "ack_by",
              comment: "Acknowledged on LINE by {{lineName}}",
            },
            reply: "Thanks, we noted it.",
          },
        ],
      },
    ],
  };
}

type Change = [path: Array<string | number>, value: unknown];
const DELETE = Symbol("delete");

/** A deep copy of the valid set with each [path, value] applied (DELETE removes the key). */
function changed(...changes: Change[]): unknown {
  const set = JSON.parse(JSON.stringify(validSet())) as Record<string, unknown>;
  for (const [path, value] of changes) {
    let node = set as Record<string | number, unknown>;
    path.slice(0, -1).forEach((key) => {
      node = node[key] as Record<string | number, unknown>;
    });
    const last = path[path.length - 1] as string | number;
    if (value === DELETE) delete node[last];
    else node[last] = value;
  }
  return set;
}

/** The errors of the valid set with `changes` applied; fails the test when it parses. */
function errorsOf(...changes: Change[]) {
  const result = parseRuleSet(changed(...changes));
  if (result.ok) throw new Error("expected the rule set to be refused");
  return result.errors;
}

const R0 = ["rules", 0] as const;
const at = (...path: Array<string | number>): Array<string | number> => [...R0, ...path];

describe("parseRuleSet: accepts", () => {
  it("an object", () => {
    const result = parseRuleSet(validSet());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.ruleSet.rules[0]?.buttons[0]?.label).toBe("Got it");
  });
  it("the JSON string form", () => {
    const result = parseRuleSet(JSON.stringify(validSet()));
    expect(result.ok).toBe(true);
  });
  it("an empty rule list", () => {
    expect(parseRuleSet('{"version":1,"rules":[]}').ok).toBe(true);
  });
});

describe("parseRuleSet: JSON text", () => {
  it("bad JSON is one error at path \"\" saying where", () => {
    const result = parseRuleSet('{"version": 1,\n  "rules": [}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.path).toBe("");
    expect(result.errors[0]?.message).toMatch(/^is not valid JSON: .+ at line 2, column 13$/);
  });
  it("an empty string", () => {
    expect(parseRuleSet("  ")).toEqual({ ok: false, errors: [{ path: "", message: "is empty: expected the JSON text of a rule set" }] });
  });
  it("JSON that is not an object", () => {
    expect(parseRuleSet("null")).toEqual({ ok: false, errors: [{ path: "", message: "must be an object, not null" }] });
    expect(parseRuleSet("[1]")).toEqual({ ok: false, errors: [{ path: "", message: "must be an object, not a list" }] });
  });
});

describe("parseRuleSet: paths and messages", () => {
  it("a label over 40 characters", () => {
    const errors = errorsOf([at("buttons", 0, "label"), "x".repeat(41)]);
    expect(errors).toEqual([{ path: "rules[0].buttons[0].label", message: "must be at most 40 characters (it has 41)" }]);
  });
  it("duplicate rule ids", () => {
    const errors = errorsOf([["rules", 1], validSet().rules[0]]);
    expect(errors).toEqual([{ path: "rules[1].id", message: 'duplicate rule id "r1"' }]);
  });
  it("duplicate button ids within a rule", () => {
    const errors = errorsOf([at("buttons", 1), { id: "ack", label: "Again" }]);
    expect(errors).toEqual([{ path: "rules[0].buttons[1].id", message: 'duplicate button id "ack"' }]);
  });
  it("an op that needs a value", () => {
    const errors = errorsOf([at("when"), { any: [{ field: "a", op: "empty" }, { field: "b", op: "gt" }] }]);
    expect(errors).toEqual([{ path: "rules[0].when.any[1].value", message: 'op "gt" needs a value' }]);
  });
  it("a missing property", () => {
    const errors = errorsOf([at("trigger"), DELETE]);
    expect(errors).toEqual([{ path: "rules[0].trigger", message: "is required" }]);
  });
  it("a wrong type", () => {
    const errors = errorsOf([at("buttons"), "ack"], [at("message", "recordLink"), "yes"]);
    expect(errors).toContainEqual({ path: "rules[0].buttons", message: "must be a list, not a string" });
    expect(errors).toContainEqual({ path: "rules[0].message.recordLink", message: "must be true or false, not a string" });
  });
  it("an unknown property", () => {
    const errors = errorsOf([at("extra"), 1]);
    expect(errors).toEqual([
      { path: "rules[0].extra", message: 'is not a known property ("extra" is not part of rule set v1)' },
    ]);
  });
  it("an unknown op", () => {
    const errors = errorsOf([at("when", "all", 0, "op"), "like"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe("rules[0].when.all[0].op");
    expect(errors[0]?.message).toBe(
      'must be one of "eq", "ne", "in", "notIn", "contains", "empty", "notEmpty", "gt", "gte", "lt", "lte" (got "like")',
    );
  });
  it("a condition value of the wrong kind", () => {
    expect(errorsOf([at("when", "all", 0, "value"), { a: 1 }])).toEqual([{ path: "rules[0].when.all[0].value", message: "must be a string, a number or a list of strings" }]);
    expect(errorsOf([at("when", "all", 0, "value"), ["a", 2]])).toEqual([{ path: "rules[0].when.all[0].value[1]", message: "must be a string, not a number" }]);
  });
  it("when with both all and any, or neither", () => {
    const hint = 'must be an object with exactly one of "all" or "any", each a list of conditions';
    expect(errorsOf([at("when"), { all: [], any: [] }])).toEqual([{ path: "rules[0].when", message: hint }]);
    expect(errorsOf([at("when"), {}])).toEqual([{ path: "rules[0].when", message: hint }]);
  });
  it("an error deep inside one branch of when", () => {
    expect(errorsOf([at("when", "all", 0, "field"), ""])).toEqual([{ path: "rules[0].when.all[0].field", message: "must not be empty" }]);
  });
  it("the id pattern", () => {
    expect(errorsOf([at("id"), "rule one"])).toEqual([{ path: "rules[0].id", message: 'must be 1-32 of A-Z a-z 0-9 _ - (got "rule one")' }]);
  });
  it("version", () => {
    expect(errorsOf([["version"], 2])).toEqual([{ path: "version", message: "must be 1 (got 2)" }]);
    expect(errorsOf([["version"], DELETE])).toEqual([{ path: "version", message: "is required" }]);
  });
  it("too many items names them", () => {
    const errors = errorsOf([at("buttons"), [1, 2, 3, 4].map((n) => ({ id: `b${n}`, label: "x" }))]);
    expect(errors).toEqual([{ path: "rules[0].buttons", message: "must have at most 3 buttons" }]);
  });
  it("a write-back key that is not a field code", () => {
    const errors = errorsOf([at("buttons", 0, "writeBack", "set"), { "": "x" }]);
    expect(errors).toEqual([{ path: 'rules[0].buttons[0].writeBack.set[""]', message: "field code must not be empty" }]);
  });
  it("several errors at once, each with its own path", () => {
    const errors = errorsOf([at("message", "title"), ""], [at("recipients", "ids"), [""]]);
    expect(errors).toEqual([
      { path: "rules[0].recipients.ids[0]", message: "must not be empty" },
      { path: "rules[0].message.title", message: "must not be empty" },
    ]);
  });
});

describe("formatPath", () => {
  it("writes dotted paths with indexes, quoting odd keys", () => {
    expect(formatPath([])).toBe("");
    expect(formatPath(["rules", 0, "buttons", 1, "label"])).toBe("rules[0].buttons[1].label");
    expect(formatPath(["set", "お客様"])).toBe('set["お客様"]');
    expect(formatPath(["set", "a b"])).toBe('set["a b"]');
  });
});

describe("findJsonSyntaxProblem", () => {
  const cases: Array<[string, string]> = [
    ['{"a": 1,}', 'unexpected "}", expected a property name in double quotes at line 1, column 9'],
    ['{"a" 1}', 'unexpected "1", expected ":" at line 1, column 6'],
    ["{'a': 1}", 'unexpected "\'", expected a property name in double quotes at line 1, column 2'],
    ['{"a": [1 2]}', 'unexpected "2", expected "," or "]" at line 1, column 10'],
    ['{"a": "x', "unterminated string at line 1, column 7"],
    ['{"a": tru}', 'unexpected "t", expected a value at line 1, column 7'],
    ['{"a": 1} x', 'unexpected "x" after the end of the value at line 1, column 10'],
    ['{\n  "a": 01\n}', 'unexpected "1", expected "," or "}" at line 2, column 9'],
    ['{"a": "\\q"}', "bad escape \\q at line 1, column 8"],
    ['{"a": "line\nbreak"}', "control character in a string (line breaks must be written \\n) at line 1, column 12"],
    ["", "unexpected end of text, expected a value at line 1, column 1"],
  ];
  it.each(cases)("%j", (text, expected) => {
    const found = findJsonSyntaxProblem(text);
    expect(found && `${found.problem} at line ${found.line}, column ${found.column}`).toBe(expected);
    expect(() => JSON.parse(text)).toThrow();
  });
  it("finds nothing in valid JSON", () => {
    expect(findJsonSyntaxProblem('{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"], "b": {}}')).toBeUndefined();
  });
});
