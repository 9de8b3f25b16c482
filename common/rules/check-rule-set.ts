/**
 * The mistakes a rule set can hold although its shape is right, found the same way on the
 * settings page (before Save, and on opening saved rules) and in the relay (which refuses them):
 *
 * - without the app's form: fixed LINE IDs that are not U/C/R + 32 hex; a rule that sends to nobody;
 *   a button that both takes a process step and writes back, or asks a reason without a step;
 * - with the app's form fields: fields that no longer exist or changed type (anywhere in a rule),
 *   `{{placeholders}}` that name no field, condition values that the field's type cannot hold
 *   (a number, a date, an option of the list).
 *
 * Each problem carries its path (as parseRuleSet writes it) and its words in Japanese and English.
 */
import { RULE_PROBLEM_CATALOGUE, type RuleProblemTexts } from "../i18n/rule-problems.js";
import { templatePlaceholders } from "../flex/render-template.js";
import { parseDate, parseDateTime, parseTime } from "../kintone/date-time.js";
import { DATE_TIME_FIELD_TYPES, MULTI_CHOICE_FIELD_TYPES, numericSettings, parseNumeric } from "../kintone/field-values.js";
import type { FieldProperties, FieldProperty } from "../kintone/record.js";
import { formatPath } from "./path.js";
import type { Condition, Rule, RuleSet } from "./rule-set.js";

export interface RuleProblem {
  /** Like `rules[0].recipients.ids[1]`. */
  path: string;
  /** English. */
  message: string;
  ja: string;
}

/** A LINE user (U), group (C) or room (R) ID: the letter and 32 lower-case hex digits. */
export const LINE_ID_PATTERN = /^[UCR][0-9a-f]{32}$/;

/** Placeholders a write-back may use besides field codes. */
const WRITE_BACK_EXTRAS = ["lineName", "buttonLabel"];

const RECIPIENT_TYPES = new Set(["SINGLE_LINE_TEXT", "MULTI_LINE_TEXT"]);
const WRITABLE_TYPES = new Set(["SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RADIO_BUTTON", "DROP_DOWN"]);
const CHOICE_TYPES = new Set(["RADIO_BUTTON", "DROP_DOWN", ...MULTI_CHOICE_FIELD_TYPES]);
/** Fields every record has, whether or not the form lists them. */
const BUILT_IN = new Set(["$id", "$revision"]);

type Say = (t: RuleProblemTexts) => string;

export function checkRuleSet(ruleSet: RuleSet, fields?: FieldProperties): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const add = (path: (string | number)[], say: Say): void => {
    problems.push({ path: formatPath(path), message: say(RULE_PROBLEM_CATALOGUE.en), ja: say(RULE_PROBLEM_CATALOGUE.ja) });
  };
  ruleSet.rules.forEach((rule, i) => {
    const at = (...rest: (string | number)[]) => ["rules", i, ...rest];
    const { fields: recipientFields, ids, assignees, users = [] } = rule.recipients;
    if (recipientFields.length === 0 && ids.length === 0 && assignees !== true && users.length === 0) {
      add(at("recipients"), (t) => t.noRecipients);
    }
    ids.forEach((id, k) => {
      if (!LINE_ID_PATTERN.test(id)) add(at("recipients", "ids", k), (t) => t.lineIdFormat(id));
    });
    rule.buttons.forEach((button, j) => {
      // The step acts as the tapping user, a write-back as Administrator (the API token): one
      // button doing both would mix the two, and its write would move the revision the step needs.
      if (button.action !== undefined && button.writeBack !== undefined) add(at("buttons", j, "writeBack"), (t) => t.actionWithWriteBack);
      if (button.askReason === true && button.action === undefined) add(at("buttons", j, "askReason"), (t) => t.askReasonWithoutAction);
    });
    if (fields) checkAgainstForm(rule, fields, at, add);
  });
  return problems;
}

function checkAgainstForm(
  rule: Rule,
  fields: FieldProperties,
  at: (...rest: (string | number)[]) => (string | number)[],
  add: (path: (string | number)[], say: Say) => void,
): void {
  const field = (code: string): FieldProperty | undefined => (Object.hasOwn(fields, code) ? fields[code] : undefined);
  const exists = (code: string): boolean => BUILT_IN.has(code) || field(code) !== undefined;
  const placeholders = (template: string, path: (string | number)[], extras: string[] = []): void => {
    for (const name of templatePlaceholders(template)) {
      if (!exists(name) && !extras.includes(name)) add(path, (t) => t.unknownPlaceholder(name));
    }
  };

  const conditions = rule.when ? ("all" in rule.when ? rule.when.all : rule.when.any) : [];
  const key = rule.when && "all" in rule.when ? "all" : "any";
  conditions.forEach((condition, k) => {
    const property = field(condition.field);
    if (!property) {
      if (!exists(condition.field)) add(at("when", key, k, "field"), (t) => t.unknownField(condition.field));
      return;
    }
    const say = valueProblem(condition, property);
    if (say) add(at("when", key, k, "value"), say);
  });

  // Assignees and actions exist only with process management on: kintone lists its STATUS field
  // with `enabled: false` when it is off (a form without the entry says nothing either way).
  const status = Object.values(fields).find((property) => property.type === "STATUS");
  const processOff = status !== undefined && (status as { enabled?: unknown }).enabled === false;
  if (processOff) {
    if (rule.recipients.assignees === true) add(at("recipients", "assignees"), (t) => t.processManagementOff);
    rule.buttons.forEach((button, j) => {
      if (button.action !== undefined) add(at("buttons", j, "action"), (t) => t.processManagementOff);
    });
  }

  rule.recipients.fields.forEach((code, k) => {
    const property = field(code);
    if (!property) add(at("recipients", "fields", k), (t) => t.unknownField(code));
    else if (!RECIPIENT_TYPES.has(property.type)) add(at("recipients", "fields", k), (t) => t.notARecipientField(property.label));
  });

  placeholders(rule.message.title, at("message", "title"));
  rule.message.fields.forEach((code, k) => {
    if (!exists(code)) add(at("message", "fields", k), (t) => t.unknownField(code));
  });

  rule.buttons.forEach((button, j) => {
    if (button.reply) placeholders(button.reply, at("buttons", j, "reply"), WRITE_BACK_EXTRAS);
    const writeBack = button.writeBack;
    if (!writeBack) return;
    for (const [code, value] of Object.entries(writeBack.set ?? {})) {
      const path = at("buttons", j, "writeBack", "set", code);
      const property = field(code);
      if (!property) add(path, (t) => t.unknownField(code));
      else if (!WRITABLE_TYPES.has(property.type)) add(path, (t) => t.notWritable(property.label));
      else {
        const options = optionLabels(property);
        const cleared = property.type === "DROP_DOWN" && value === "";
        const templated = templatePlaceholders(value).length > 0;
        if (options.length > 0 && !cleared && !templated && !options.includes(value)) add(path, (t) => t.notAnOption(value, property.label));
        placeholders(value, path, WRITE_BACK_EXTRAS);
      }
    }
    if (writeBack.timestampField) {
      const code = writeBack.timestampField;
      const property = field(code);
      const path = at("buttons", j, "writeBack", "timestampField");
      if (!property) add(path, (t) => t.unknownField(code));
      else if (property.type !== "DATETIME") add(path, (t) => t.notADateTimeField(property.label));
    }
    if (writeBack.userField) {
      const code = writeBack.userField;
      const property = field(code);
      const path = at("buttons", j, "writeBack", "userField");
      if (!property) add(path, (t) => t.unknownField(code));
      else if (property.type !== "SINGLE_LINE_TEXT") add(path, (t) => t.notATextField(property.label));
    }
    if (writeBack.comment) placeholders(writeBack.comment, at("buttons", j, "writeBack", "comment"), WRITE_BACK_EXTRAS);
  });
}

/** Options of a choice field, in kintone's order. */
export function optionLabels(field: FieldProperty): string[] {
  if (!field.options) return [];
  return Object.values(field.options)
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map((o) => o.label);
}

/** What kind of value a condition on this field takes, as match-rules reads it. */
export function valueKindOf(property: FieldProperty): "number" | "date" | "datetime" | "time" | "choice" | "other" {
  const { type } = property;
  if (type === "NUMBER" || type === "RECORD_NUMBER" || type === "__ID__") return type === "RECORD_NUMBER" ? "other" : "number";
  if (type === "CALC") {
    const format = numericSettings(property).format;
    return format === "DATE" ? "date" : format === "DATETIME" ? "datetime" : format === "TIME" ? "time" : "number";
  }
  if (type === "DATE") return "date";
  if (DATE_TIME_FIELD_TYPES.has(type)) return "datetime";
  if (type === "TIME") return "time";
  if (CHOICE_TYPES.has(type)) return "choice";
  return "other";
}

function valueProblem(condition: Condition, property: FieldProperty): Say | undefined {
  if (condition.op === "empty" || condition.op === "notEmpty" || condition.value === undefined) return undefined;
  const values = (Array.isArray(condition.value) ? condition.value : [condition.value]).map(String).filter((v) => v !== "");
  const label = property.label;
  const kind = valueKindOf(property);
  for (const value of values) {
    switch (kind) {
      case "number":
        if (parseNumeric(value) === undefined) return (t) => t.notANumber(value, label);
        break;
      case "date":
        if (!parseDate(value)) return (t) => t.notADate(value, label);
        break;
      case "datetime":
        if (!parseDate(value) && parseDateTime(value, "UTC") === undefined) return (t) => t.notADateTime(value, label);
        break;
      case "time":
        if (parseTime(value) === undefined) return (t) => t.notATime(value, label);
        break;
      case "choice": {
        const options = optionLabels(property);
        if (condition.op !== "contains" && options.length > 0 && !options.includes(value)) return (t) => t.notAnOption(value, label);
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}
