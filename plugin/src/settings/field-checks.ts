/**
 * Checks of a rule set against the app's form that the shared schema cannot make (it knows no
 * form): the fields shown in a message exist, and what a button writes back fits its field (a
 * field that takes a text value; for a choice field, one of its options). The page shows these
 * next to their controls and saves only when there are none.
 */
import type { FieldProperties } from "../../../common/kintone/record";
import type { RuleSet } from "../../../common/rules/rule-set";
import { choiceOptions, writeBackSetFields } from "./field-types";
import type { SettingsMessages } from "./settings-messages";

export interface FieldProblem {
  path: string;
  message: string;
}

/** `list` with the item at `index` moved by `delta` places (a copy; out-of-range moves change nothing). */
export function moveItem<T>(list: readonly T[], index: number, delta: number): T[] {
  const copy = [...list];
  const target = index + delta;
  if (index < 0 || index >= copy.length || target < 0 || target >= copy.length) return copy;
  const [item] = copy.splice(index, 1) as [T];
  copy.splice(target, 0, item);
  return copy;
}

/** `record` with key `from` renamed to `to`, keeping the order of the keys (a copy). */
export function renameKey<V>(record: Readonly<Record<string, V>>, from: string, to: string): Record<string, V> {
  const next: Record<string, V> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key === from) next[to] = value;
    else if (key !== to) next[key] = value;
  }
  return next;
}

export function fieldProblems(ruleSet: RuleSet, fields: FieldProperties, m: SettingsMessages): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const settable = new Set(writeBackSetFields(fields).map((f) => f.code));
  const has = (code: string): boolean => Object.hasOwn(fields, code);
  ruleSet.rules.forEach((rule, i) => {
    rule.message.fields.forEach((code, k) => {
      if (!has(code)) problems.push({ path: `rules.${i}.message.fields.${k}`, message: m.unknownField(code) });
    });
    rule.buttons.forEach((button, j) => {
      for (const [code, value] of Object.entries(button.writeBack?.set ?? {})) {
        const path = `rules.${i}.buttons.${j}.writeBack.set.${code}`;
        const field = has(code) ? fields[code] : undefined;
        if (!field) problems.push({ path, message: m.unknownField(code) });
        else if (!settable.has(code)) problems.push({ path, message: m.notTextField(field.label) });
        else {
          const options = choiceOptions(field);
          const cleared = field.type === "DROP_DOWN" && value === "";
          if (options.length > 0 && !cleared && !options.includes(value)) problems.push({ path, message: m.notAnOption(value, field.label) });
        }
      }
    });
  });
  return problems;
}
