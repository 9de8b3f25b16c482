/**
 * Narrowing of kintone field values, which arrive as `unknown`. Every reader tolerates a wrong
 * shape (it returns an empty result) so that odd data never makes a caller throw.
 */
import type { FieldProperty } from "./record.js";

export interface Entity {
  code: string;
  name: string;
}

export const ENTITY_FIELD_TYPES: ReadonlySet<string> = new Set([
  "USER_SELECT",
  "ORGANIZATION_SELECT",
  "GROUP_SELECT",
  "STATUS_ASSIGNEE",
  "CREATOR",
  "MODIFIER",
]);

export const MULTI_CHOICE_FIELD_TYPES: ReadonlySet<string> = new Set(["CHECK_BOX", "MULTI_SELECT", "CATEGORY"]);

export const DATE_TIME_FIELD_TYPES: ReadonlySet<string> = new Set(["DATETIME", "CREATED_TIME", "UPDATED_TIME"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string value; numbers are stringified; anything else is "". */
export function stringValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return "";
}

/** The strings of a CHECK_BOX / MULTI_SELECT / CATEGORY value. */
export function stringListValue(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === "string");
}

/** `[{code, name}]` or `{code, name}` (CREATOR, MODIFIER) as a list; entries without a code are skipped. */
export function entityListValue(value: unknown): Entity[] {
  const items = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  const out: Entity[] = [];
  for (const item of items) {
    if (isRecord(item) && typeof item.code === "string" && item.code !== "") {
      out.push({ code: item.code, name: typeof item.name === "string" ? item.name : "" });
    }
  }
  return out;
}

/** File names of a FILE value. */
export function fileNamesValue(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((f) => (isRecord(f) && typeof f.name === "string" ? [f.name] : []));
}

/** Row count of a SUBTABLE value. */
export function subtableRowCount(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/**
 * Extra properties the form fields API returns that `FieldProperty` does not spell out
 * (NUMBER and CALC display settings). Read structurally, never required.
 */
export interface NumericFieldSettings {
  format?: string; // CALC: NUMBER | NUMBER_DIGIT | DATETIME | DATE | TIME | HOUR_MINUTE | DAY_HOUR_MINUTE
  digit?: boolean; // NUMBER: thousands separators
  unit?: string;
  unitPosition?: string; // BEFORE | AFTER
}

export function numericSettings(property: FieldProperty | undefined): NumericFieldSettings {
  if (!property) return {};
  const p = property as FieldProperty & Record<string, unknown>;
  return {
    format: typeof p.format === "string" ? p.format : undefined,
    digit: typeof p.digit === "boolean" ? p.digit : undefined,
    unit: typeof p.unit === "string" ? p.unit : undefined,
    unitPosition: typeof p.unitPosition === "string" ? p.unitPosition : undefined,
  };
}

/** kintone's numeric syntax: sign, digits, optional decimals, optional exponent. */
const NUMERIC_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A numeric string (or number) -> number, or undefined when it is not one. */
export function parseNumeric(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (!NUMERIC_RE.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** "1234567.5" -> "1,234,567.5". Leaves anything that is not a plain decimal as it is. */
export function groupDigits(numeric: string): string {
  const m = /^([+-]?)(\d+)(\.\d*)?$/.exec(numeric.trim());
  if (!m) return numeric;
  const [, sign = "", int = "", frac = ""] = m;
  return sign + int.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + frac;
}
