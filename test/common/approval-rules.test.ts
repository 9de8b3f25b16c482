import { describe, expect, it } from "vitest";
import { RULE_PROBLEM_CATALOGUE } from "../../common/i18n/rule-problems.js";
import type { FieldProperties } from "../../common/kintone/record.js";
import { checkRuleSet } from "../../common/rules/check-rule-set.js";
import { parseRuleSet } from "../../common/rules/parse-rule-set.js";
import type { Rule, RuleSet } from "../../common/rules/rule-set.js";

const en = RULE_PROBLEM_CATALOGUE.en;
const ja = RULE_PROBLEM_CATALOGUE.ja;

function ruleSet(rule: Partial<Rule>): RuleSet {
  return {
    version: 1,
    rules: [
      {
        id: "r1",
        trigger: { actions: [], from: [], to: ["Submitted"] },
        recipients: { fields: [], ids: [], assignees: true },
        message: { title: "Order {{order_no}}", fields: [] },
        buttons: [],
        ...rule,
      },
    ],
  };
}

const form = (processEnabled: boolean): FieldProperties => ({
  order_no: { type: "SINGLE_LINE_TEXT", code: "order_no", label: "Order no." },
  ack_status: { type: "SINGLE_LINE_TEXT", code: "ack_status", label: "Ack" },
  Status: { type: "STATUS", code: "Status", label: "Status", enabled: processEnabled } as FieldProperties[string],
  Assignee: { type: "STATUS_ASSIGNEE", code: "Assignee", label: "Assignee", enabled: processEnabled } as FieldProperties[string],
});

describe("rules that reach kintone users and take process steps", () => {
  it("a rule sending only to the record's assignees, or only to kintone users, sends to someone", () => {
    expect(checkRuleSet(ruleSet({ recipients: { fields: [], ids: [], assignees: true } }))).toEqual([]);
    expect(checkRuleSet(ruleSet({ recipients: { fields: [], ids: [], users: ["sato"] } }))).toEqual([]);
    const nobody = checkRuleSet(ruleSet({ recipients: { fields: [], ids: [], assignees: false, users: [] } }));
    expect(nobody).toEqual([{ path: "rules[0].recipients", message: en.noRecipients, ja: ja.noRecipients }]);
  });

  it("a button takes a step or writes back, never both; a reason is asked only before a step", () => {
    const problems = checkRuleSet(
      ruleSet({
        buttons: [
          { id: "ok", label: "Approve", action: "Approve", askReason: true },
          { id: "both", label: "Both", action: "Approve", writeBack: { set: { ack_status: "x" } } },
          { id: "why", label: "Why", askReason: true },
          { id: "plain", label: "Plain", askReason: false },
        ],
      }),
    );
    expect(problems).toEqual([
      { path: "rules[0].buttons[1].writeBack", message: en.actionWithWriteBack, ja: ja.actionWithWriteBack },
      { path: "rules[0].buttons[2].askReason", message: en.askReasonWithoutAction, ja: ja.askReasonWithoutAction },
    ]);
  });

  it("the relay refuses the same mistakes when it parses the rule set", () => {
    const parsed = parseRuleSet(JSON.stringify(ruleSet({ buttons: [{ id: "why", label: "Why", askReason: true }] })));
    expect(parsed).toEqual({ ok: false, errors: [{ path: "rules[0].buttons[0].askReason", message: en.askReasonWithoutAction, ja: ja.askReasonWithoutAction }] });
  });

  it("with the app's form: assignees and actions need process management on", () => {
    const set = ruleSet({ buttons: [{ id: "ok", label: "Approve", action: "Approve" }] });
    expect(checkRuleSet(set, form(true))).toEqual([]);
    expect(checkRuleSet(set, form(false)).map((p) => [p.path, p.message])).toEqual([
      ["rules[0].recipients.assignees", en.processManagementOff],
      ["rules[0].buttons[0].action", en.processManagementOff],
    ]);
  });

  it("rule sets written before these fields still parse unchanged", () => {
    const old = {
      version: 1,
      rules: [
        {
          id: "r1",
          trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
          recipients: { fields: ["line_user_id"], ids: [] },
          message: { title: "t", fields: [] },
          buttons: [{ id: "ack", label: "Got it", writeBack: { comment: "ok" } }],
        },
      ],
    };
    const parsed = parseRuleSet(JSON.stringify(old));
    expect(parsed.ok && parsed.ruleSet.rules[0]?.recipients).toEqual({ fields: ["line_user_id"], ids: [] });
  });

  it("too many kintone users is said with the right noun in both languages", () => {
    const parsed = parseRuleSet(ruleSet({ recipients: { fields: [], ids: [], users: Array.from({ length: 101 }, (_, i) => `u${i}`) } }));
    expect(parsed).toEqual({ ok: false, errors: [{ path: "rules[0].recipients.users", message: "must have at most 100 users", ja: "ユーザーは100個までです。" }] });
  });
});
