/**
 * Which rules fire for a status change on a record. Runs in the plugin (filter before calling the
 * relay) and in the relay (re-check on the record it read itself), so it must give the same answer
 * in both: pure, no Node APIs, no host time zone. Only types are imported from the zod schema.
 *
 * How a field is compared is decided by its `type` in the record (and, for CALC, by its `format`
 * from the form fields API when given), never by what the string looks like:
 *
 * | kind      | field types                                   | eq / ne / in / notIn       | contains                | gt gte lt lte     |
 * |-----------|-----------------------------------------------|----------------------------|-------------------------|-------------------|
 * | text      | SINGLE_LINE_TEXT MULTI_LINE_TEXT RICH_TEXT*   | exact string               | substring (case-sens.)  | false             |
 * |           | LINK RADIO_BUTTON DROP_DOWN STATUS            |                            |                         |                   |
 * | number    | NUMBER, CALC (default), __ID__, __REVISION__  | numeric ("10" = "10.0")    | false                   | numeric           |
 * | date      | DATE, CALC format DATE                        | same day                   | false                   | by day            |
 * | datetime  | DATETIME CREATED_TIME UPDATED_TIME,           | same instant; a date value | false                   | instants; a date  |
 * |           | CALC format DATETIME                          | = any time that day**      |                         | value is that day |
 * | time      | TIME, CALC format TIME                        | same time                  | false                   | by time of day    |
 * | recordNo  | RECORD_NUMBER ("12" or "APP-12")              | exact string               | false                   | by the number     |
 * | set       | CHECK_BOX MULTI_SELECT CATEGORY (choices),    | eq: same set, order-free;  | value (or every value   | false             |
 * |           | USER/ORGANIZATION/GROUP_SELECT STATUS_ASSIGNEE| in: any member is listed;  | of a list) is a member  |                   |
 * |           | CREATOR MODIFIER (codes), FILE (names)        | notIn: no member is listed |                         |                   |
 * | rows      | SUBTABLE                                      | false                      | false                   | false             |
 *
 *  *  RICH_TEXT is compared as plain text (tags dropped, entities decoded).
 *  ** A date-only value against a date-time field means that calendar day in `timeZone`
 *     (default "UTC"): eq = during the day, gt = after it, gte = from its start, lt = before it,
 *     lte = up to its end. A date-time value without an offset is read in `timeZone` too.
 *
 * - empty / notEmpty: "", null, [] (and rich text with no text) are empty; a missing field is empty.
 * - A field missing from the record makes every op false except `empty`. Never a throw.
 * - An empty record value: eq/in/gt... are false, ne/notIn are true.
 * - A value "" in eq / ne / in / notIn stands for "empty" (eq "" = empty, ne "" = notEmpty).
 * - `in` / `notIn` take a list (a single string counts as a list of one).
 * - A condition value that cannot be read as the field's kind (e.g. "abc" against NUMBER, a list
 *   for eq on a text field) makes the condition false, whatever the op: a bad rule never fires.
 * - `when` absent, or with an empty list (all or any): no filter, true.
 */
import { dayNumber, dayRangeInZone, parseDate, parseDateTime, parseTime } from "../kintone/date-time.js";
import {
  DATE_TIME_FIELD_TYPES,
  ENTITY_FIELD_TYPES,
  MULTI_CHOICE_FIELD_TYPES,
  entityListValue,
  fileNamesValue,
  numericSettings,
  parseNumeric,
  stringListValue,
  stringValue,
  subtableRowCount,
} from "../kintone/field-values.js";
import type { FieldProperties, FieldProperty, KintoneField, KintoneRecord, StatusChange } from "../kintone/record.js";
import { richTextToPlain } from "../kintone/rich-text.js";
import type { Condition, ConditionOp, Rule, RuleSet, When } from "./rule-set.js";

export interface MatchOptions {
  /** Zone for date-only values against date-times and for offset-less date-times. Default "UTC". */
  timeZone?: string;
}

export interface FindMatchingRulesOptions extends MatchOptions {
  /** The form fields API `properties`: lets CALC fields be compared per their format. */
  fields?: FieldProperties;
}

/** Empty list = any. actions, from and to must all hold. A reminder (schedule) never fires on a status change. */
export function matchesTrigger(rule: Rule, change: StatusChange): boolean {
  const { actions, from, to, schedule } = rule.trigger;
  if (schedule) return false;
  const allows = (list: readonly string[], value: string): boolean => list.length === 0 || list.includes(value);
  return allows(actions, change.action) && allows(from, change.status) && allows(to, change.nextStatus);
}

export function evaluateWhen(
  when: When | undefined,
  record: KintoneRecord,
  fields?: FieldProperties,
  options: MatchOptions = {},
): boolean {
  if (!when) return true;
  const timeZone = options.timeZone ?? "UTC";
  const check = (c: Condition): boolean => evaluateCondition(c, record, fields, timeZone);
  if ("all" in when) return when.all.every(check);
  return when.any.length === 0 || when.any.some(check);
}

export function findMatchingRules(
  ruleSet: RuleSet,
  change: StatusChange,
  record: KintoneRecord,
  options: FindMatchingRulesOptions = {},
): Rule[] {
  return ruleSet.rules.filter(
    (rule) => matchesTrigger(rule, change) && evaluateWhen(rule.when, record, options.fields, options),
  );
}

// ---------------------------------------------------------------------------------------------

type Kind = "text" | "number" | "date" | "datetime" | "time" | "recordNumber" | "set" | "rows" | "other";

const TEXT_TYPES = new Set(["SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RICH_TEXT", "LINK", "RADIO_BUTTON", "DROP_DOWN", "STATUS"]);
const NUMBER_TYPES = new Set(["NUMBER", "__ID__", "__REVISION__"]);

function kindOf(field: KintoneField, property: FieldProperty | undefined): Kind {
  const { type, value } = field;
  if (TEXT_TYPES.has(type)) return "text";
  if (NUMBER_TYPES.has(type)) return "number";
  if (type === "CALC") {
    const format = numericSettings(property).format;
    if (format === "DATE") return "date";
    if (format === "DATETIME") return "datetime";
    if (format === "TIME") return "time";
    return "number";
  }
  if (type === "DATE") return "date";
  if (DATE_TIME_FIELD_TYPES.has(type)) return "datetime";
  if (type === "TIME") return "time";
  if (type === "RECORD_NUMBER") return "recordNumber";
  if (MULTI_CHOICE_FIELD_TYPES.has(type) || ENTITY_FIELD_TYPES.has(type) || type === "FILE") return "set";
  if (type === "SUBTABLE") return "rows";
  // A type this code does not know: go by the value's JS shape (not by what a string looks like).
  if (typeof value === "string") return "text";
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return "set";
  return "other";
}

function setMembers(field: KintoneField): string[] {
  if (ENTITY_FIELD_TYPES.has(field.type)) return entityListValue(field.value).map((e) => e.code);
  if (field.type === "FILE") return fileNamesValue(field.value);
  return stringListValue(field.value);
}

function isEmptyValue(field: KintoneField, kind: Kind): boolean {
  const { value } = field;
  if (value === null || value === undefined) return true;
  switch (kind) {
    case "set":
      return setMembers(field).length === 0;
    case "rows":
      return subtableRowCount(value) === 0;
    case "text":
      return (field.type === "RICH_TEXT" ? richTextToPlain(stringValue(value)) : stringValue(value)) === "";
    case "other":
      return value === "" || (Array.isArray(value) && value.length === 0);
    default:
      return stringValue(value).trim() === "";
  }
}

/** A comparable operand: a closed range [lo, hi] (lo = hi for a point). */
interface Range {
  lo: number;
  hi: number;
}

const point = (n: number): Range => ({ lo: n, hi: n });

/** Record number "APP-12" or "12" -> 12. */
function recordNumberOrdinal(text: string): number | undefined {
  const m = /(?:^|-)(\d+)$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** Parse a record value (from kintone) for an ordered kind. */
function recordOperand(kind: Kind, raw: string): Range | undefined {
  switch (kind) {
    case "number": {
      const n = parseNumeric(raw);
      return n === undefined ? undefined : point(n);
    }
    case "date": {
      const d = parseDate(raw);
      return d ? point(dayNumber(d)) : undefined;
    }
    case "datetime": {
      const t = parseDateTime(raw, "UTC");
      return t === undefined ? undefined : point(t);
    }
    case "time": {
      const s = parseTime(raw);
      return s === undefined ? undefined : point(s);
    }
    case "recordNumber": {
      const n = recordNumberOrdinal(raw);
      return n === undefined ? undefined : point(n);
    }
    default:
      return undefined;
  }
}

/** Parse a condition value (from the rule) for an ordered kind. */
function conditionOperand(kind: Kind, value: string | number, timeZone: string): Range | undefined {
  if (kind === "number") {
    const n = parseNumeric(value);
    return n === undefined ? undefined : point(n);
  }
  if (kind === "recordNumber") {
    const n = typeof value === "number" ? value : recordNumberOrdinal(value);
    return n === undefined || !Number.isInteger(n) ? undefined : point(n);
  }
  if (typeof value !== "string") return undefined;
  if (kind === "datetime") {
    const date = parseDate(value);
    if (date) {
      const { start, end } = dayRangeInZone(date, timeZone);
      return { lo: start, hi: end - 1 };
    }
    const t = parseDateTime(value, timeZone);
    return t === undefined ? undefined : point(t);
  }
  if (kind === "date") {
    // A date-time against a DATE field: its calendar date as written.
    const date = parseDate(value) ?? parseDate(value.trim().slice(0, 10));
    return date ? point(dayNumber(date)) : undefined;
  }
  return recordOperand(kind, value);
}

type Verdict = boolean | "bad"; // "bad": the condition value cannot be read for this field

function compareOrdered(op: ConditionOp, x: Range, v: Range): boolean {
  switch (op) {
    case "eq":
      return x.lo >= v.lo && x.hi <= v.hi;
    case "ne":
      return !(x.lo >= v.lo && x.hi <= v.hi);
    case "gt":
      return x.lo > v.hi;
    case "gte":
      return x.lo >= v.lo;
    case "lt":
      return x.hi < v.lo;
    case "lte":
      return x.hi <= v.hi;
    default:
      return false;
  }
}

const asList = (value: Condition["value"]): Array<string | number> | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

function evaluateScalar(op: ConditionOp, field: KintoneField, kind: Kind, value: Condition["value"], timeZone: string): Verdict {
  const empty = isEmptyValue(field, kind);
  const raw = field.type === "RICH_TEXT" ? richTextToPlain(stringValue(field.value)) : stringValue(field.value);

  // One item of eq / ne / in / notIn: "" means empty.
  const equals = (item: string | number): Verdict => {
    if (item === "") return empty;
    if (empty) return false;
    if (kind === "text" || (kind === "recordNumber" && typeof item === "string")) return raw === String(item);
    const v = conditionOperand(kind, item, timeZone);
    if (!v) return "bad";
    const x = recordOperand(kind, raw);
    return x ? compareOrdered("eq", x, v) : false;
  };

  switch (op) {
    case "eq":
    case "ne": {
      if (value === undefined || Array.isArray(value)) return "bad";
      const r = equals(value);
      return r === "bad" ? r : op === "eq" ? r : !r;
    }
    case "in":
    case "notIn": {
      const list = asList(value);
      if (!list) return "bad";
      let hit = false;
      for (const item of list) {
        const r = equals(item);
        if (r === "bad") return r;
        hit ||= r;
      }
      return op === "in" ? hit : !hit;
    }
    case "contains":
      if (kind !== "text") return false;
      if (typeof value !== "string" && typeof value !== "number") return "bad";
      return !empty && raw.includes(String(value));
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (kind === "text") return false;
      if (value === undefined || Array.isArray(value)) return "bad";
      const v = conditionOperand(kind, value, timeZone);
      if (!v) return "bad";
      if (empty) return false;
      const x = recordOperand(kind, raw);
      return x ? compareOrdered(op, x, v) : false;
    }
    default:
      return false;
  }
}

function evaluateSet(op: ConditionOp, field: KintoneField, value: Condition["value"]): Verdict {
  const members = setMembers(field);
  const list = asList(value)?.map(String);
  if (!list) return "bad";
  switch (op) {
    case "eq":
    case "ne": {
      const wanted = new Set(list.filter((s) => s !== ""));
      const have = new Set(members);
      const same = wanted.size === have.size && [...have].every((m) => wanted.has(m));
      return op === "eq" ? same : !same;
    }
    case "contains":
      return list.every((item) => members.includes(item));
    case "in":
    case "notIn": {
      const hit = list.some((item) => (item === "" ? members.length === 0 : members.includes(item)));
      return op === "in" ? hit : !hit;
    }
    default:
      return false;
  }
}

function evaluateCondition(
  condition: Condition,
  record: KintoneRecord,
  fields: FieldProperties | undefined,
  timeZone: string,
): boolean {
  const { op } = condition;
  const field = Object.hasOwn(record, condition.field) ? record[condition.field] : undefined;
  if (!field || typeof field !== "object") return op === "empty";
  const property = fields && Object.hasOwn(fields, condition.field) ? fields[condition.field] : undefined;
  const kind = kindOf(field, property);

  if (op === "empty") return isEmptyValue(field, kind);
  if (op === "notEmpty") return !isEmptyValue(field, kind);
  if (kind === "rows" || kind === "other") return false;

  const verdict =
    kind === "set"
      ? evaluateSet(op, field, condition.value)
      : evaluateScalar(op, field, kind, condition.value, timeZone);
  return verdict === true;
}

/** The ops that mean something for a field, for the settings page's op picker. */
export function opsForField(property: FieldProperty): ConditionOp[] {
  const kind = kindOf({ type: property.type, value: null }, property);
  switch (kind) {
    case "text":
      return ["eq", "ne", "in", "notIn", "contains", "empty", "notEmpty"];
    case "set":
      return ["eq", "ne", "in", "notIn", "contains", "empty", "notEmpty"];
    case "rows":
    case "other":
      return ["empty", "notEmpty"];
    default:
      return ["eq", "ne", "in", "notIn", "empty", "notEmpty", "gt", "gte", "lt", "lte"];
  }
}
