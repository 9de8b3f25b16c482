import { describe, expect, it } from "vitest";
import type { FieldProperties, KintoneRecord, StatusChange } from "../../common/kintone/record.js";
import { evaluateWhen, findMatchingRules, matchesTrigger, opsForField } from "../../common/rules/match-rules.js";
import type { Condition, ConditionOp, Rule, RuleSet } from "../../common/rules/rule-set.js";
import { conditionOps } from "../../common/rules/rule-set.js";
import { sampleFields, sampleRecord } from "./fixtures/sample-record.js";

const record = sampleRecord();

function holds(
  field: string,
  op: ConditionOp,
  value?: Condition["value"],
  opts: { record?: KintoneRecord; fields?: FieldProperties; timeZone?: string } = {},
): boolean {
  return evaluateWhen({ all: [{ field, op, value }] }, opts.record ?? record, opts.fields, { timeZone: opts.timeZone });
}

function rule(partial: Partial<Rule> & { id: string }): Rule {
  return {
    trigger: { actions: [], from: [], to: [] },
    recipients: { fields: [], ids: ["Uxxxxxxxx"] },
    message: { title: "t", fields: [] },
    buttons: [],
    ...partial,
  };
}

const change: StatusChange = { action: "Approve", status: "Submitted", nextStatus: "Approved" };

describe("matchesTrigger", () => {
  it("treats empty lists as any", () => {
    expect(matchesTrigger(rule({ id: "r" }), change)).toBe(true);
  });
  it("needs actions, from and to to hold together", () => {
    const trigger = { actions: ["Approve"], from: ["Submitted"], to: ["Approved"] };
    expect(matchesTrigger(rule({ id: "r", trigger }), change)).toBe(true);
    expect(matchesTrigger(rule({ id: "r", trigger: { ...trigger, actions: ["Reject"] } }), change)).toBe(false);
    expect(matchesTrigger(rule({ id: "r", trigger: { ...trigger, from: ["Draft"] } }), change)).toBe(false);
    expect(matchesTrigger(rule({ id: "r", trigger: { ...trigger, to: ["Rejected", "Done"] } }), change)).toBe(false);
    expect(matchesTrigger(rule({ id: "r", trigger: { actions: [], from: [], to: ["Done", "Approved"] } }), change)).toBe(true);
  });
});

describe("evaluateWhen: combinators", () => {
  const yes: Condition = { field: "priority", op: "eq", value: "High" };
  const no: Condition = { field: "priority", op: "eq", value: "Low" };
  it("no when, or an empty list, is no filter", () => {
    expect(evaluateWhen(undefined, record)).toBe(true);
    expect(evaluateWhen({ all: [] }, record)).toBe(true);
    expect(evaluateWhen({ any: [] }, record)).toBe(true);
  });
  it("all needs every condition, any needs one", () => {
    expect(evaluateWhen({ all: [yes, no] }, record)).toBe(false);
    expect(evaluateWhen({ all: [yes, yes] }, record)).toBe(true);
    expect(evaluateWhen({ any: [no, yes] }, record)).toBe(true);
    expect(evaluateWhen({ any: [no, no] }, record)).toBe(false);
  });
});

describe("text fields", () => {
  it("eq / ne are exact", () => {
    expect(holds("title", "eq", "Order 1001")).toBe(true);
    expect(holds("title", "eq", "order 1001")).toBe(false);
    expect(holds("title", "ne", "order 1001")).toBe(true);
    expect(holds("priority", "eq", "High")).toBe(true);
    expect(holds("channel", "ne", "LINE")).toBe(false);
    expect(holds("status", "eq", "Approved")).toBe(true);
    expect(holds("site", "eq", "https://example.com/a?b=c")).toBe(true);
  });
  it("in / notIn take a list (or one string)", () => {
    expect(holds("priority", "in", ["Low", "High"])).toBe(true);
    expect(holds("priority", "in", "High")).toBe(true);
    expect(holds("priority", "notIn", ["Low", "Mid"])).toBe(true);
    expect(holds("priority", "notIn", ["High"])).toBe(false);
  });
  it("contains is a case-sensitive substring test", () => {
    expect(holds("title", "contains", "1001")).toBe(true);
    expect(holds("title", "contains", "order")).toBe(false);
    expect(holds("notes", "contains", "line 2")).toBe(true);
    expect(holds("title", "contains", 1001)).toBe(true);
  });
  it("compares rich text as plain text", () => {
    expect(holds("body", "contains", "world & co")).toBe(true);
    expect(holds("body", "contains", "<b>")).toBe(false);
    expect(holds("body", "eq", "Hello world & co\n2nd line")).toBe(true);
    expect(holds("empty_rich", "empty")).toBe(true);
  });
  it("ordering ops are false on text", () => {
    expect(holds("title", "gt", "A")).toBe(false);
    expect(holds("title", "lt", "Z")).toBe(false);
  });
  it("empty text: empty, eq \"\", ne", () => {
    expect(holds("empty_text", "empty")).toBe(true);
    expect(holds("empty_text", "notEmpty")).toBe(false);
    expect(holds("empty_text", "eq", "")).toBe(true);
    expect(holds("title", "ne", "")).toBe(true);
    expect(holds("empty_text", "eq", "x")).toBe(false);
    expect(holds("empty_text", "ne", "x")).toBe(true);
    expect(holds("empty_text", "contains", "")).toBe(false);
  });
  it("a list for eq on a text field is a bad value: false, even for ne", () => {
    expect(holds("title", "eq", ["Order 1001"])).toBe(false);
    expect(holds("title", "ne", ["x"])).toBe(false);
  });
});

describe("NUMBER and CALC compare as numbers", () => {
  it('"10" > "9" as numbers, not as strings', () => {
    expect(holds("qty", "gt", "9")).toBe(true);
    expect(holds("qty", "gt", 9)).toBe(true);
    expect(holds("qty", "lt", "9")).toBe(false);
    expect(holds("qty", "lt", "100")).toBe(true);
  });
  it("eq is numeric equality", () => {
    expect(holds("qty", "eq", "10.0")).toBe(true);
    expect(holds("qty", "eq", 10)).toBe(true);
    expect(holds("qty", "eq", "1e1")).toBe(true);
    expect(holds("qty", "ne", "10")).toBe(false);
    expect(holds("qty", "in", ["9", "10"])).toBe(true);
    expect(holds("qty", "notIn", ["9", "11"])).toBe(true);
  });
  it("gte / lte include the bound", () => {
    expect(holds("qty", "gte", "10")).toBe(true);
    expect(holds("qty", "lte", "10")).toBe(true);
    expect(holds("qty", "gte", "10.5")).toBe(false);
    expect(holds("amount", "gt", "1234567.49")).toBe(true);
    expect(holds("amount", "lte", "-1")).toBe(false);
  });
  it("handles signs and decimals", () => {
    const r: KintoneRecord = { n: { type: "NUMBER", value: "-5.5" } };
    expect(holds("n", "lt", "-5", { record: r })).toBe(true);
    expect(holds("n", "gt", "-6", { record: r })).toBe(true);
    expect(holds("n", "eq", "-5.50", { record: r })).toBe(true);
  });
  it('"" is empty: ordering false, ne true', () => {
    expect(holds("empty_number", "empty")).toBe(true);
    expect(holds("empty_number", "gt", "0")).toBe(false);
    expect(holds("empty_number", "lt", "0")).toBe(false);
    expect(holds("empty_number", "eq", "0")).toBe(false);
    expect(holds("empty_number", "ne", "0")).toBe(true);
    expect(holds("empty_number", "eq", "")).toBe(true);
    expect(holds("qty", "notEmpty")).toBe(true);
  });
  it("a condition value that is not a number makes the condition false", () => {
    expect(holds("qty", "gt", "abc")).toBe(false);
    expect(holds("qty", "eq", "ten")).toBe(false);
    expect(holds("qty", "ne", "ten")).toBe(false);
    expect(holds("qty", "in", ["10", "ten"])).toBe(false);
  });
  it("contains is false on numbers", () => {
    expect(holds("qty", "contains", "1")).toBe(false);
  });
  it("CALC is numeric by default", () => {
    expect(holds("total", "gt", "999999")).toBe(true);
    expect(holds("total", "eq", "2469135")).toBe(true);
  });
  it("__ID__ compares as a number", () => {
    expect(holds("$id", "gt", "9")).toBe(true);
    expect(holds("$id", "eq", "42")).toBe(true);
  });
});

describe("DATE", () => {
  it("compares calendar days", () => {
    expect(holds("due", "eq", "2026-11-21")).toBe(true);
    expect(holds("due", "gt", "2026-11-20")).toBe(true);
    expect(holds("due", "gt", "2026-11-21")).toBe(false);
    expect(holds("due", "gte", "2026-11-21")).toBe(true);
    expect(holds("due", "lt", "2026-12-01")).toBe(true);
    expect(holds("due", "lte", "2026-11-20")).toBe(false);
    expect(holds("due", "in", ["2026-11-20", "2026-11-21"])).toBe(true);
  });
  it("orders across months and years, not as strings of different shape", () => {
    const r: KintoneRecord = { d: { type: "DATE", value: "2027-01-02" } };
    expect(holds("d", "gt", "2026-12-31", { record: r })).toBe(true);
  });
  it("an impossible date is a bad value", () => {
    expect(holds("due", "lt", "2026-02-30")).toBe(false);
    expect(holds("due", "gt", "21/11/2026")).toBe(false);
  });
  it("a null DATE is empty", () => {
    expect(holds("empty_date", "empty")).toBe(true);
    expect(holds("empty_date", "gt", "2000-01-01")).toBe(false);
    expect(holds("empty_date", "ne", "2000-01-01")).toBe(true);
  });
  it("CALC with format DATE (from the form fields) compares as a date", () => {
    const fields = sampleFields();
    expect(holds("due_calc", "gt", "2026-11-21", { fields })).toBe(true);
    expect(holds("due_calc", "eq", "2026-11-30", { fields })).toBe(true);
    // Without the form fields a CALC is numeric, and "2026-11-30" is not a number.
    expect(holds("due_calc", "gt", "2026-11-21")).toBe(false);
  });
});

describe("DATETIME compares instants", () => {
  // deliver_at = 2026-11-21T05:00:00Z = 14:00 in Tokyo, 00:00 in New York.
  it("the same instant written with different offsets is equal", () => {
    expect(holds("deliver_at", "eq", "2026-11-21T05:00:00Z")).toBe(true);
    expect(holds("deliver_at", "eq", "2026-11-21T14:00:00+09:00")).toBe(true);
    expect(holds("deliver_at", "eq", "2026-11-21T00:00:00-05:00")).toBe(true);
    expect(holds("deliver_at", "eq", "2026-11-21T05:00:00.000+00:00")).toBe(true);
    expect(holds("deliver_at", "ne", "2026-11-21T14:00:00+09:00")).toBe(false);
  });
  it("orders across offsets", () => {
    expect(holds("deliver_at", "gt", "2026-11-21T13:59:59+09:00")).toBe(true);
    expect(holds("deliver_at", "gt", "2026-11-21T06:00:00+02:00")).toBe(true); // 04:00Z
    expect(holds("deliver_at", "lt", "2026-11-21T05:00:01Z")).toBe(true);
    expect(holds("deliver_at", "lt", "2026-11-21T00:00:01-05:00")).toBe(true);
    expect(holds("deliver_at", "gte", "2026-11-21T14:00+09:00")).toBe(true);
    expect(holds("deliver_at", "lte", "2026-11-20T23:59:59-05:00")).toBe(false);
  });
  it("a date value means that calendar day in the time zone", () => {
    const late: KintoneRecord = { t: { type: "DATETIME", value: "2026-11-20T20:00:00Z" } }; // 11-21 05:00 in Tokyo
    const tokyo = { record: late, timeZone: "Asia/Tokyo" };
    const utc = { record: late, timeZone: "UTC" };
    expect(holds("t", "eq", "2026-11-21", tokyo)).toBe(true);
    expect(holds("t", "eq", "2026-11-21", utc)).toBe(false);
    expect(holds("t", "eq", "2026-11-20", utc)).toBe(true);
    expect(holds("t", "gt", "2026-11-20", tokyo)).toBe(true);
    expect(holds("t", "gt", "2026-11-21", tokyo)).toBe(false);
    expect(holds("t", "gte", "2026-11-21", tokyo)).toBe(true);
    expect(holds("t", "lt", "2026-11-21", tokyo)).toBe(false);
    expect(holds("t", "lt", "2026-11-21", utc)).toBe(true);
    expect(holds("t", "lte", "2026-11-21", tokyo)).toBe(true);
    expect(holds("t", "lte", "2026-11-20", tokyo)).toBe(false);
  });
  it("defaults to UTC for date values", () => {
    expect(holds("deliver_at", "eq", "2026-11-21")).toBe(true);
  });
  it("reads a date-time without offset in the time zone", () => {
    expect(holds("deliver_at", "eq", "2026-11-21T14:00", { timeZone: "Asia/Tokyo" })).toBe(true);
    expect(holds("deliver_at", "eq", "2026-11-21T14:00", { timeZone: "UTC" })).toBe(false);
  });
  it("handles daylight saving time", () => {
    const summer: KintoneRecord = { t: { type: "DATETIME", value: "2026-07-01T04:00:00Z" } }; // 00:00 EDT
    expect(holds("t", "eq", "2026-07-01", { record: summer, timeZone: "America/New_York" })).toBe(true);
    expect(holds("t", "eq", "2026-07-01T00:00", { record: summer, timeZone: "America/New_York" })).toBe(true);
  });
  it("CREATED_TIME and UPDATED_TIME are date-times", () => {
    expect(holds("created", "lt", "2026-11-21T00:00:00Z")).toBe(true);
    expect(holds("created", "eq", "2026-11-21", { timeZone: "Asia/Tokyo" })).toBe(true);
    expect(holds("updated", "eq", "2026-11-21T14:00:00+09:00")).toBe(true);
  });
  it("CALC with format DATETIME compares instants", () => {
    expect(holds("ends_calc", "gt", "2026-11-30T09:59:00+09:00", { fields: sampleFields() })).toBe(true);
  });
  it("empty and bad values", () => {
    expect(holds("empty_datetime", "empty")).toBe(true);
    expect(holds("empty_datetime", "lt", "2030-01-01T00:00:00Z")).toBe(false);
    expect(holds("deliver_at", "gt", "yesterday")).toBe(false);
    expect(holds("deliver_at", "gt", 5)).toBe(false);
  });
});

describe("TIME", () => {
  it("compares times of day", () => {
    expect(holds("start_time", "eq", "09:30")).toBe(true);
    expect(holds("start_time", "eq", "9:30")).toBe(true);
    expect(holds("start_time", "eq", "09:30:00")).toBe(true);
    expect(holds("start_time", "gt", "09:00")).toBe(true);
    expect(holds("start_time", "lt", "10:00")).toBe(true);
    expect(holds("start_time", "lt", "09:30")).toBe(false);
    expect(holds("start_time", "gt", "25:00")).toBe(false);
  });
});

describe("users, organizations, groups (compared on code)", () => {
  it("eq is the same set of codes, in any order", () => {
    expect(holds("owner", "eq", ["kato", "sato"])).toBe(true);
    expect(holds("owner", "eq", "sato")).toBe(false);
    expect(holds("owner", "ne", "sato")).toBe(true);
    expect(holds("creator", "eq", "sato")).toBe(true);
    expect(holds("modifier", "ne", "kato")).toBe(false);
  });
  it("contains / in are membership", () => {
    expect(holds("owner", "contains", "sato")).toBe(true);
    expect(holds("owner", "contains", ["sato", "kato"])).toBe(true);
    expect(holds("owner", "contains", ["sato", "ito"])).toBe(false);
    expect(holds("owner", "in", ["ito", "kato"])).toBe(true);
    expect(holds("owner", "notIn", ["ito"])).toBe(true);
    expect(holds("owner", "notIn", ["sato"])).toBe(false);
    expect(holds("assignee", "contains", "kato")).toBe(true);
    expect(holds("dept", "in", "sales")).toBe(true);
    expect(holds("creator", "in", ["sato", "ito"])).toBe(true);
  });
  it("does not match on names", () => {
    expect(holds("owner", "contains", "Sato Noboru")).toBe(false);
  });
  it("empty selections", () => {
    expect(holds("grp", "empty")).toBe(true);
    expect(holds("grp", "eq", [])).toBe(true);
    expect(holds("grp", "contains", "x")).toBe(false);
    expect(holds("grp", "notIn", ["x"])).toBe(true);
    expect(holds("owner", "notEmpty")).toBe(true);
  });
  it("ordering is false", () => {
    expect(holds("owner", "gt", "a")).toBe(false);
  });
});

describe("CHECK_BOX / MULTI_SELECT / CATEGORY", () => {
  it("eq means the same set", () => {
    expect(holds("tags", "eq", ["B", "A"])).toBe(true);
    expect(holds("tags", "eq", ["A"])).toBe(false);
    expect(holds("tags", "ne", ["A"])).toBe(true);
    expect(holds("regions", "eq", "East")).toBe(true);
  });
  it("contains / in / notIn are membership", () => {
    expect(holds("tags", "contains", "A")).toBe(true);
    expect(holds("tags", "contains", ["A", "C"])).toBe(false);
    expect(holds("tags", "in", ["C", "B"])).toBe(true);
    expect(holds("tags", "in", ["C"])).toBe(false);
    expect(holds("tags", "notIn", ["C"])).toBe(true);
    expect(holds("category", "contains", "Retail")).toBe(true);
  });
  it("empty", () => {
    expect(holds("no_tags", "empty")).toBe(true);
    expect(holds("no_tags", "eq", "")).toBe(true);
    expect(holds("tags", "empty")).toBe(false);
    expect(holds("tags", "gt", "A")).toBe(false);
  });
});

describe("other types", () => {
  it("RECORD_NUMBER: eq as text, ordering by the number", () => {
    expect(holds("record_no", "eq", "ORD-42")).toBe(true);
    expect(holds("record_no", "gt", 41)).toBe(true);
    expect(holds("record_no", "lt", "ORD-100")).toBe(true); // as strings "ORD-100" < "ORD-42"
    expect(holds("record_no", "eq", 42)).toBe(true);
  });
  it("FILE: membership on names", () => {
    expect(holds("files", "contains", "quote.pdf")).toBe(true);
    expect(holds("files", "notEmpty")).toBe(true);
  });
  it("SUBTABLE: only empty / notEmpty", () => {
    expect(holds("items", "notEmpty")).toBe(true);
    expect(holds("items", "empty")).toBe(false);
    expect(holds("items", "eq", "3")).toBe(false);
  });
});

describe("missing fields and odd values", () => {
  it("a missing field is false for every op but empty", () => {
    for (const op of conditionOps) {
      expect(holds("no_such_field", op, "x"), op).toBe(op === "empty");
    }
  });
  it("prototype names are not fields", () => {
    expect(holds("constructor", "notEmpty")).toBe(false);
    expect(holds("__proto__", "empty")).toBe(true);
  });
  it("never throws on values of the wrong shape", () => {
    const odd: KintoneRecord = {
      u: { type: "USER_SELECT", value: 5 },
      t: { type: "SINGLE_LINE_TEXT", value: { a: 1 } },
      n: { type: "NUMBER", value: ["1"] },
      d: { type: "DATETIME", value: "not a date" },
      c: { type: "CHECK_BOX", value: "A" },
      x: { type: "SOMETHING_NEW", value: { deep: true } },
    };
    for (const field of Object.keys(odd)) {
      for (const op of conditionOps) {
        for (const value of ["1", 1, ["1"], undefined] as Array<Condition["value"]>) {
          expect(() => holds(field, op, value, { record: odd })).not.toThrow();
        }
      }
    }
    expect(holds("u", "empty", undefined, { record: odd })).toBe(true);
    expect(holds("d", "gt", "2000-01-01T00:00:00Z", { record: odd })).toBe(false);
  });
  it("an unknown type is read by its value's JS shape", () => {
    const r: KintoneRecord = { s: { type: "NEW_TEXT", value: "abc" }, l: { type: "NEW_LIST", value: ["a"] } };
    expect(holds("s", "contains", "b", { record: r })).toBe(true);
    expect(holds("l", "contains", "a", { record: r })).toBe(true);
  });
});

describe("findMatchingRules", () => {
  const set: RuleSet = {
    version: 1,
    rules: [
      rule({ id: "a", trigger: { actions: ["Approve"], from: [], to: [] } }),
      rule({ id: "b", trigger: { actions: ["Reject"], from: [], to: [] } }),
      rule({ id: "c", when: { all: [{ field: "qty", op: "gt", value: "9" }] } }),
      rule({ id: "d", when: { any: [{ field: "qty", op: "gt", value: "10" }] } }),
      rule({ id: "e", when: { all: [{ field: "deliver_at", op: "eq", value: "2026-11-21" }] } }),
    ],
  };
  it("returns the rules whose trigger and conditions hold, in order", () => {
    expect(findMatchingRules(set, change, record).map((r) => r.id)).toEqual(["a", "c", "e"]);
  });
  it("passes the time zone on", () => {
    const late: KintoneRecord = { ...record, deliver_at: { type: "DATETIME", value: "2026-11-21T20:00:00Z" } };
    expect(findMatchingRules(set, change, late, { timeZone: "Asia/Tokyo" }).map((r) => r.id)).toEqual(["a", "c"]);
  });
});

describe("opsForField", () => {
  it("offers ordering only where it means something", () => {
    expect(opsForField({ type: "NUMBER", code: "n", label: "n" })).toContain("gt");
    expect(opsForField({ type: "DATETIME", code: "n", label: "n" })).toContain("lte");
    expect(opsForField({ type: "CHECK_BOX", code: "n", label: "n" })).not.toContain("gt");
    expect(opsForField({ type: "SINGLE_LINE_TEXT", code: "n", label: "n" })).toContain("contains");
    expect(opsForField({ type: "SUBTABLE", code: "n", label: "n" })).toEqual(["empty", "notEmpty"]);
  });
});
