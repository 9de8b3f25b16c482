import { describe, expect, it } from "vitest";
import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { RULE_PROBLEM_CATALOGUE } from "../../common/i18n/rule-problems.js";
import type { FieldProperties } from "../../common/kintone/record.js";
import { checkRuleSet } from "../../common/rules/check-rule-set.js";
import { parseRuleSet } from "../../common/rules/parse-rule-set.js";
import type { Rule, RuleSet } from "../../common/rules/rule-set.js";

const FIELDS: FieldProperties = {
  order_no: { type: "SINGLE_LINE_TEXT", code: "order_no", label: "Order no." },
  line_user_id: { type: "SINGLE_LINE_TEXT", code: "line_user_id", label: "LINE user" },
  amount: { type: "NUMBER", code: "amount", label: "Amount" },
  due_date: { type: "DATE", code: "due_date", label: "Due date" },
  priority: { type: "DROP_DOWN", code: "priority", label: "Priority", options: { High: { label: "High", index: "0" }, Low: { label: "Low", index: "1" } } },
  ack_at: { type: "DATETIME", code: "ack_at", label: "Acknowledged at" },
};

function ruleSet(rule: Partial<Rule>): RuleSet {
  return {
    version: 1,
    rules: [
      {
        id: "r1",
        trigger: { actions: [], from: [], to: [] },
        recipients: { fields: ["line_user_id"], ids: [] },
        message: { title: "Order {{order_no}}", fields: [] },
        buttons: [],
        ...rule,
      },
    ],
  };
}

const paths = (set: RuleSet, fields?: FieldProperties) => checkRuleSet(set, fields).map((p) => [p.path, p.message]);

describe("checkRuleSet: the mistakes the page and the relay both refuse", () => {
  it("refuses fixed IDs that are not U/C/R + 32 hex, and a rule that sends to nobody", () => {
    const good = "C" + "0123456789abcdef".repeat(2);
    const problems = paths(ruleSet({ recipients: { fields: [], ids: ["hello", good, "U" + "A".repeat(32)] } }));
    expect(problems).toEqual([
      ["rules[0].recipients.ids[0]", RULE_PROBLEM_CATALOGUE.en.lineIdFormat("hello")],
      ["rules[0].recipients.ids[2]", RULE_PROBLEM_CATALOGUE.en.lineIdFormat("U" + "A".repeat(32))],
    ]);
    expect(paths(ruleSet({ recipients: { fields: [], ids: [] } }))).toEqual([["rules[0].recipients", RULE_PROBLEM_CATALOGUE.en.noRecipients]]);
  });

  it("parseRuleSet refuses them too, with the Japanese words beside the English", () => {
    const parsed = parseRuleSet(ruleSet({ recipients: { fields: [], ids: ["hello"] } }));
    expect(parsed).toEqual({
      ok: false,
      errors: [{ path: "rules[0].recipients.ids[0]", message: RULE_PROBLEM_CATALOGUE.en.lineIdFormat("hello"), ja: RULE_PROBLEM_CATALOGUE.ja.lineIdFormat("hello") }],
    });
  });

  it("with the app's form: typed values, placeholders, deleted and retyped fields anywhere in a rule", () => {
    const set = ruleSet({
      when: {
        all: [
          { field: "amount", op: "gt", value: "abc" },
          { field: "due_date", op: "lt", value: "next friday" },
          { field: "priority", op: "eq", value: "Urgent" },
          { field: "gone", op: "notEmpty" },
          { field: "amount", op: "gte", value: "10" },
        ],
      },
      recipients: { fields: ["line_user_id", "amount"], ids: [] },
      message: { title: "Order {{no_such_field}} shipped", fields: ["order_no", "deleted_field"] },
      buttons: [{ id: "ack", label: "OK", writeBack: { set: { priority: "Medium" }, timestampField: "order_no", comment: "by {{lineName}} {{typo}}" } }],
    });
    const en = RULE_PROBLEM_CATALOGUE.en;
    expect(paths(set, FIELDS)).toEqual([
      ["rules[0].when.all[0].value", en.notANumber("abc", "Amount")],
      ["rules[0].when.all[1].value", en.notADate("next friday", "Due date")],
      ["rules[0].when.all[2].value", en.notAnOption("Urgent", "Priority")],
      ["rules[0].when.all[3].field", en.unknownField("gone")],
      ["rules[0].recipients.fields[1]", en.notARecipientField("Amount")],
      ["rules[0].message.title", en.unknownPlaceholder("no_such_field")],
      ["rules[0].message.fields[1]", en.unknownField("deleted_field")],
      ["rules[0].buttons[0].writeBack.set.priority", en.notAnOption("Medium", "Priority")],
      ["rules[0].buttons[0].writeBack.timestampField", en.notADateTimeField("Order no.")],
      ["rules[0].buttons[0].writeBack.comment", en.unknownPlaceholder("typo")],
    ]);
  });

  it("a rule that fits the form has no problem", () => {
    expect(paths(ruleSet({ when: { any: [{ field: "due_date", op: "eq", value: "2026-05-01" }] } }), FIELDS)).toEqual([]);
  });
});

/** ASCII brackets or quotes in Japanese text: 「」 and （） are the natural ones. */
const ASCII_AROUND_WORDS = /["'()[\]]/;

describe("message catalogues", () => {
  it("relay texts: every key in both languages, no empty text, no ASCII brackets or quotes in Japanese", () => {
    const { ja, en } = RELAY_TEXT_CATALOGUE;
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(ja)) {
      expect(text, key).not.toBe("");
      expect(text, key).not.toMatch(ASCII_AROUND_WORDS);
      expect(text, key).not.toBe(en[key as keyof typeof en]);
    }
  });

  it("rule problems: every key in both languages; Japanese uses 「」 and （）", () => {
    const { ja, en } = RULE_PROBLEM_CATALOGUE;
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
    for (const [key, entry] of Object.entries(ja)) {
      const text = typeof entry === "function" ? (entry as (...a: string[]) => string)("値", "項目") : entry;
      expect(text, key).not.toMatch(ASCII_AROUND_WORDS);
    }
  });
});
