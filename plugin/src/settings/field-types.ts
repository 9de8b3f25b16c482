/** Which kintone field types fit which place in a rule. */
import { opsForField } from "../../../common/rules/match-rules";
import type { ConditionOp } from "../../../common/rules/rule-set";
import type { FieldProperties, FieldProperty } from "../../../common/kintone/record";

/** Layout-only entries of the form API: never data. */
const LAYOUT = ["GROUP", "LABEL", "SPACER", "HR", "REFERENCE_TABLE", "__REVISION__"];

/** The ops that fit a field: the shared matcher decides, so the picker never offers a meaningless one. */
export function opsForFieldType(field: FieldProperty): ConditionOp[] {
  return opsForField(field);
}

export const opNeedsValue = (op: ConditionOp): boolean => op !== "empty" && op !== "notEmpty";
export const opTakesList = (op: ConditionOp): boolean => op === "in" || op === "notIn";
export const isNumericType = (type: string): boolean => ["NUMBER", "CALC", "RECORD_NUMBER", "__ID__"].includes(type);

/** Data fields sorted by label (layout entries dropped). */
export function dataFields(fields: FieldProperties): FieldProperty[] {
  return Object.values(fields)
    .filter((f) => !LAYOUT.includes(f.type))
    .sort((a, b) => a.label.localeCompare(b.label));
}

export const conditionFields = (fields: FieldProperties): FieldProperty[] =>
  dataFields(fields);

/** Fields that can hold LINE IDs: text, one ID a line. */
export const recipientFields = (fields: FieldProperties): FieldProperty[] =>
  dataFields(fields).filter((f) => f.type === "SINGLE_LINE_TEXT" || f.type === "MULTI_LINE_TEXT");

/** Fields a button may set to a fixed text. */
export const writeBackSetFields = (fields: FieldProperties): FieldProperty[] =>
  dataFields(fields).filter((f) => ["SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RADIO_BUTTON", "DROP_DOWN"].includes(f.type));

/** Where the acknowledgement time goes: a date-time field. */
export const timestampFields = (fields: FieldProperties): FieldProperty[] =>
  dataFields(fields).filter((f) => f.type === "DATETIME");

/** Where the LINE user's name goes: a single-line text field. */
export const userNameFields = (fields: FieldProperties): FieldProperty[] =>
  dataFields(fields).filter((f) => f.type === "SINGLE_LINE_TEXT");

/** Options of a choice field, in kintone's order. */
export function choiceOptions(field: FieldProperty | undefined): string[] {
  if (!field?.options) return [];
  return Object.values(field.options)
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map((o) => o.label);
}
