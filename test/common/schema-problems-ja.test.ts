import { describe, expect, it } from "vitest";
import { SCHEMA_PROBLEM_CATALOGUE } from "../../common/i18n/rule-problems.js";
import { parseRuleSet } from "../../common/rules/parse-rule-set.js";
import { recordMessages } from "../../plugin/src/record-messages.js";
import { saveMessages } from "../../plugin/src/settings/save-messages.js";
import { settingsMessages } from "../../plugin/src/settings/settings-messages.js";

function rule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "r1",
    trigger: { actions: [], from: [], to: ["Approved"] },
    recipients: { fields: ["line_user_id"], ids: [] },
    message: { title: "Order", fields: [] },
    buttons: [],
    ...overrides,
  };
}

const refusal = (input: unknown) => {
  const result = parseRuleSet(input);
  if (result.ok) throw new Error("expected a refusal");
  return result.errors;
};

describe("the schema's refusals are said in Japanese too", () => {
  it.each([
    ["an empty text", "  ", "", "空です。ルールセットのJSONテキストが必要です。"],
    ["a wrong type", { version: 1, rules: [rule({ message: { title: 5, fields: [] } })] }, "rules[0].message.title", "文字列にしてください（数値になっています）。"],
    ["a missing property", { version: 1, rules: [rule({ message: { fields: [] } })] }, "rules[0].message.title", "入力してください。"],
    ["an empty title", { version: 1, rules: [rule({ message: { title: "", fields: [] } })] }, "rules[0].message.title", "入力してください。"],
    [
      "a label over 40 characters",
      { version: 1, rules: [rule({ buttons: [{ id: "b", label: "x".repeat(41) }] })] },
      "rules[0].buttons[0].label",
      "40文字以内にしてください（今は41文字です）。",
    ],
    ["a bad rule ID", { version: 1, rules: [rule({ id: "no spaces" })] }, "rules[0].id", "半角英数字・「_」・「-」で1～32文字にしてください（入力値：\"no spaces\"）。"],
    ["a duplicate rule ID", { version: 1, rules: [rule(), rule()] }, "rules[1].id", "ルールID「r1」が重複しています。"],
    ["an unknown property", { version: 1, rules: [rule({ colour: "red" })] }, "rules[0].colour", "使えない項目です（「colour」はルールセット v1 にありません）。"],
    ["a wrong version", { version: 2, rules: [] }, "version", "「1」にしてください（入力値：2）。"],
  ])("%s", (_what, input, path, ja) => {
    const errors = refusal(input);
    const found = errors.find((e) => e.path === path);
    expect(found, JSON.stringify(errors)).toBeDefined();
    expect(found?.ja).toBe(ja);
    // Every refusal has both words, and they differ.
    for (const error of errors) {
      expect(error.ja, error.path).toBeTruthy();
      expect(error.ja).not.toBe(error.message);
    }
  });
});

/** Keys of a catalogue entry, functions included, sorted. */
const keys = (catalogue: object) => Object.keys(catalogue).sort();

describe("message catalogues: every key in both languages", () => {
  it("the schema refusals (relay and settings page)", () => {
    expect(keys(SCHEMA_PROBLEM_CATALOGUE.ja)).toEqual(keys(SCHEMA_PROBLEM_CATALOGUE.en));
  });

  it("the plugin's record pages and settings page", () => {
    expect(keys(recordMessages("ja"))).toEqual(keys(recordMessages("en")));
    expect(keys(recordMessages("ja").recipientState)).toEqual(keys(recordMessages("en").recipientState));
    expect(keys(recordMessages("ja").deliveryState)).toEqual(keys(recordMessages("en").deliveryState));
    expect(keys(settingsMessages("ja"))).toEqual(keys(settingsMessages("en")));
    expect(keys(saveMessages("ja"))).toEqual(keys(saveMessages("en")));
    // Japanese texts are Japanese: no entry is the English one.
    for (const [key, text] of Object.entries(recordMessages("ja"))) {
      if (typeof text === "string") expect(text, key).not.toBe(recordMessages("en")[key as keyof ReturnType<typeof recordMessages>]);
    }
  });
});
