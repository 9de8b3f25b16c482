import type { FieldProperty } from "../../common/kintone/record.js";
import { type ValidationErrors, fieldNotFound, invalidJson } from "./errors.js";

/**
 * Field values as kintone stores and returns them, and the checks and normalisation kintone
 * applies to the values a client sends (`{code: {value}}` of add / update record).
 *
 * Returned shapes (cybozu.dev "Field types"; empty values as real kintone returns them):
 * text, NUMBER, LINK, CALC -> string ("" when empty; numbers are strings); DATETIME -> "" when
 * empty; DATE, TIME, DROP_DOWN, RADIO_BUTTON -> null when empty; CHECK_BOX, MULTI_SELECT ->
 * string[]; USER/ORGANIZATION/GROUP_SELECT -> {code, name}[]; FILE, SUBTABLE -> [].
 */

export interface KintoneUser {
  code: string;
  name: string;
}

const EMPTY_STRING_TYPES = new Set([
  "SINGLE_LINE_TEXT",
  "MULTI_LINE_TEXT",
  "RICH_TEXT",
  "LINK",
  "NUMBER",
  "CALC",
  "DATETIME",
]);
const EMPTY_NULL_TYPES = new Set(["DATE", "TIME", "DROP_DOWN", "RADIO_BUTTON"]);
const ARRAY_TYPES = new Set([
  "CHECK_BOX",
  "MULTI_SELECT",
  "USER_SELECT",
  "ORGANIZATION_SELECT",
  "GROUP_SELECT",
  "FILE",
  "SUBTABLE",
]);
/** Field types that decorate the form and hold no value: they never appear in a record. */
const LAYOUT_TYPES = new Set(["GROUP", "LABEL", "SPACER", "HR", "REFERENCE_TABLE"]);

/** Types a user can define in `addApp` (kintone creates the system fields itself). */
export const USER_FIELD_TYPES = new Set([
  ...EMPTY_STRING_TYPES,
  ...EMPTY_NULL_TYPES,
  ...ARRAY_TYPES,
  ...LAYOUT_TYPES,
]);

export function holdsValue(type: string): boolean {
  return !LAYOUT_TYPES.has(type);
}

/** The value kintone returns for a field nobody filled in. */
export function emptyValue(type: string): unknown {
  if (EMPTY_NULL_TYPES.has(type)) return null;
  if (ARRAY_TYPES.has(type)) return [];
  return "";
}

/** kintone's timestamps (CREATED_TIME, UPDATED_TIME, comments): UTC, whole minutes. */
export function formatTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16)}:00Z`;
}

/** Where a value sits in the request, for the keys of `errors` ("record.price.value"). */
export interface ValuePath {
  /** "record" or, inside a table row, "record.items.value[0].value". */
  parent: string;
  code: string;
}

const dotted = (p: ValuePath) => `${p.parent}.${p.code}`;
/** Real kintone reports an unparsable NUMBER as "record[price].value"; the same form is used for dates. */
const bracketed = (p: ValuePath) => `${p.parent}[${p.code}]`;

export interface NormalizeContext {
  errors: ValidationErrors;
  /** Ids of the table rows the record has now (rows sent with one of these keep it). */
  existingRowIds: ReadonlySet<string>;
  newRowId(): string;
}

function addError(errors: ValidationErrors, key: string, message: string): void {
  (errors[key] ??= { messages: [] }).messages.push(message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The value kintone would store for `raw` sent to field `prop`. A value of the wrong JSON shape
 * throws CB_IJ01 at once (as kintone does); a value of the right shape but bad content adds to
 * `ctx.errors` (CB_VA01, reported together) and yields the empty value.
 */
export function normalizeValue(
  prop: FieldProperty,
  raw: unknown,
  path: ValuePath,
  ctx: NormalizeContext,
): unknown {
  const { type } = prop;
  if (raw === undefined || raw === null) return emptyValue(type);

  switch (type) {
    case "SINGLE_LINE_TEXT":
    case "MULTI_LINE_TEXT":
    case "RICH_TEXT":
    case "LINK":
      return scalarText(raw);

    case "NUMBER": {
      const text = scalarText(raw).trim();
      if (text === "") return "";
      const number = normalizeNumber(text);
      if (number === undefined) addError(ctx.errors, `${bracketed(path)}.value`, "Only numbers are allowed.");
      return number ?? "";
    }

    case "DATE": {
      const text = scalarText(raw).trim();
      if (text === "") return null;
      const date = normalizeDate(text);
      if (date === undefined) addError(ctx.errors, `${bracketed(path)}.value`, "Enter a valid date (YYYY-MM-DD).");
      return date ?? null;
    }

    case "TIME": {
      const text = scalarText(raw).trim();
      if (text === "") return null;
      const time = normalizeTime(text);
      if (time === undefined) addError(ctx.errors, `${bracketed(path)}.value`, "Enter a valid time (HH:MM).");
      return time ?? null;
    }

    case "DATETIME": {
      const text = scalarText(raw).trim();
      if (text === "") return "";
      const dateTime = normalizeDateTime(text);
      if (dateTime === undefined) {
        addError(
          ctx.errors,
          `${bracketed(path)}.value`,
          "Enter a valid date and time (YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS+09:00).",
        );
      }
      return dateTime ?? "";
    }

    case "DROP_DOWN":
    case "RADIO_BUTTON": {
      const text = scalarText(raw);
      if (text === "") return null;
      if (prop.options && !(text in prop.options)) {
        addError(ctx.errors, `${dotted(path)}.value`, `The value, "${text}", is not in options.`);
      }
      return text;
    }

    case "CHECK_BOX":
    case "MULTI_SELECT": {
      if (!Array.isArray(raw) || raw.some((item) => typeof item !== "string")) throw invalidJson();
      const items = raw as string[];
      items.forEach((item, index) => {
        if (prop.options && !(item in prop.options)) {
          addError(ctx.errors, `${dotted(path)}.values[${index}].value`, `The value, "${item}", is not in options.`);
        }
      });
      return [...items];
    }

    case "USER_SELECT":
    case "ORGANIZATION_SELECT":
    case "GROUP_SELECT": {
      if (!Array.isArray(raw)) throw invalidJson();
      // The emulator has no user directory: the name is the code.
      return raw.map((entity) => {
        if (!isPlainObject(entity) || typeof entity.code !== "string") throw invalidJson();
        return { code: entity.code, name: entity.code };
      });
    }

    case "FILE": {
      if (!Array.isArray(raw)) throw invalidJson();
      if (raw.length > 0) {
        addError(ctx.errors, `${dotted(path)}.value`, "The kintone emulator does not store files.");
      }
      return [];
    }

    case "SUBTABLE":
      return normalizeTable(prop, raw, path, ctx);

    default:
      if (!holdsValue(type)) throw fieldNotFound(path.code);
      // CALC and anything else kintone computes itself.
      addError(ctx.errors, `${dotted(path)}.value`, "This field cannot be updated.");
      return emptyValue(type);
  }
}

function scalarText(raw: unknown): string {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" || typeof raw === "boolean") return String(raw);
  throw invalidJson();
}

function normalizeTable(prop: FieldProperty, raw: unknown, path: ValuePath, ctx: NormalizeContext): unknown {
  if (!Array.isArray(raw)) throw invalidJson();
  const inner = prop.fields ?? {};
  return raw.map((row: unknown, index) => {
    if (!isPlainObject(row) || !isPlainObject(row.value ?? {})) throw invalidJson();
    const sent = (row.value ?? {}) as Record<string, unknown>;
    for (const code of Object.keys(sent)) if (!inner[code]) throw fieldNotFound(code);

    const rowId = row.id === undefined || row.id === null ? undefined : String(row.id);
    const value: Record<string, { type: string; value: unknown }> = {};
    for (const [code, innerProp] of Object.entries(inner)) {
      const cell = sent[code];
      if (cell !== undefined && !isPlainObject(cell)) throw invalidJson();
      const cellPath = { parent: `${dotted(path)}.value[${index}].value`, code };
      value[code] = { type: innerProp.type, value: normalizeValue(innerProp, cell?.value, cellPath, ctx) };
    }
    return { id: rowId !== undefined && ctx.existingRowIds.has(rowId) ? rowId : ctx.newRowId(), value };
  });
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** " 42 " -> "42", "1.5e1" -> "15" (as kintone stores them); undefined when not a number. */
export function normalizeNumber(text: string): string | undefined {
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  if (m[2] !== undefined) {
    const n = Number(text);
    return Number.isFinite(n) ? String(n) : undefined;
  }
  return text.startsWith("+") ? text.slice(1) : text;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** kintone also takes "2015", "2015-7" and "2015-7-5", filling in 01 (cybozu.dev "Date formats"). */
export function normalizeDate(text: string): string | undefined {
  const m = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  if (!isCalendarDate(year, month, day)) return undefined;
  return `${m[1]}-${pad2(month)}-${pad2(day)}`;
}

/** "9:05" / "09:05:30" -> "09:05". */
export function normalizeTime(text: string): string | undefined {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return `${pad2(hour)}:${pad2(minute)}`;
}

/**
 * "YYYY-MM-DDTHH:MM:SSZ" or with "±HH:MM" -> the UTC instant, whole minutes: kintone drops the
 * seconds. Without an offset, or without the time part, the value is read as UTC (as kintone does).
 */
export function normalizeDateTime(text: string): string | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text,
  );
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  let epoch = Date.UTC(year, month - 1, day, hour, minute);
  const offset = m[7];
  if (offset !== undefined && offset !== "Z") {
    const digits = offset.slice(1).replace(":", "");
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (oh > 23 || om > 59) return undefined;
    epoch -= (offset.startsWith("-") ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return formatTimestamp(epoch);
}
