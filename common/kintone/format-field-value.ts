/**
 * One kintone field value as the text a person reads in a LINE message. Pure, no DOM, Intl only.
 *
 * | type                                   | shown as                                         |
 * |----------------------------------------|--------------------------------------------------|
 * | SINGLE_LINE_TEXT, MULTI_LINE_TEXT,     | the text (line breaks kept)                      |
 * |   LINK, RADIO_BUTTON, DROP_DOWN,       |                                                  |
 * |   STATUS, RECORD_NUMBER, __ID__, ...   |                                                  |
 * | RICH_TEXT                              | plain text: tags dropped, entities decoded       |
 * | NUMBER                                 | the string as kintone gives it; with the field's |
 * |                                        |   `digit` setting "1,234,567"; `unit` added      |
 * | CALC                                   | per its `format`: dates/times like DATE/DATETIME |
 * |                                        |   below, NUMBER_DIGIT grouped, else as NUMBER    |
 * | DATE                                   | 2026-11-21                                       |
 * | TIME                                   | 14:00                                            |
 * | DATETIME, CREATED_TIME, UPDATED_TIME   | 2026-11-21 14:00 in `timeZone`                   |
 * | CHECK_BOX, MULTI_SELECT, CATEGORY      | choices joined by ", "                           |
 * | USER_SELECT, ORGANIZATION_SELECT,      | names joined by ", " (code when a name is empty) |
 * |   GROUP_SELECT, STATUS_ASSIGNEE,       |                                                  |
 * |   CREATOR, MODIFIER                    |                                                  |
 * | FILE                                   | file names joined by ", "                        |
 * | SUBTABLE                               | "3 rows" / "3行"                                 |
 * | anything empty or missing              | "-"                                              |
 *
 * The DATETIME format does not follow the locale on purpose: one fixed, unambiguous form.
 * An unknown `timeZone` throws RangeError (a configuration error; check with isValidTimeZone).
 */
import { formatInstant, parseDate, parseDateTime, parseTime } from "./date-time.js";
import {
  DATE_TIME_FIELD_TYPES,
  ENTITY_FIELD_TYPES,
  MULTI_CHOICE_FIELD_TYPES,
  entityListValue,
  fileNamesValue,
  groupDigits,
  numericSettings,
  stringListValue,
  stringValue,
  subtableRowCount,
} from "./field-values.js";
import type { FieldProperty, KintoneField } from "./record.js";
import { richTextToPlain } from "./rich-text.js";

export const EMPTY_VALUE_TEXT = "-";

export interface FormatFieldValueOptions {
  /** IANA zone for DATETIME-like values, e.g. "Asia/Tokyo". */
  timeZone: string;
  /** "ja" or "en" (default): only words such as "rows" depend on it. */
  locale?: string;
  /** The field's entry from the form fields API: NUMBER/CALC display settings. */
  fieldProperty?: FieldProperty;
}

const orDash = (text: string): string => (text.trim() === "" ? EMPTY_VALUE_TEXT : text);

function formatDateTimeText(raw: string, timeZone: string): string {
  // kintone's values carry "Z"; a value without an offset is read as UTC, not host-local.
  const instant = parseDateTime(raw, "UTC");
  return instant === undefined ? raw : formatInstant(instant, timeZone);
}

function formatNumberText(raw: string, property: FieldProperty | undefined, forceDigits: boolean): string {
  if (raw.trim() === "") return EMPTY_VALUE_TEXT;
  const settings = numericSettings(property);
  const text = forceDigits || settings.digit === true ? groupDigits(raw) : raw;
  if (!settings.unit) return text;
  return settings.unitPosition === "BEFORE" ? settings.unit + text : text + settings.unit;
}

function formatCalc(raw: string, options: FormatFieldValueOptions): string {
  if (raw.trim() === "") return EMPTY_VALUE_TEXT;
  switch (numericSettings(options.fieldProperty).format) {
    case "DATETIME":
      return formatDateTimeText(raw, options.timeZone);
    case "DATE":
      return parseDate(raw) ? raw.trim() : raw;
    case "TIME":
    case "HOUR_MINUTE":
    case "DAY_HOUR_MINUTE":
      return raw;
    case "NUMBER_DIGIT":
      return formatNumberText(raw, options.fieldProperty, true);
    default:
      return formatNumberText(raw, options.fieldProperty, false);
  }
}

function rowsText(count: number, locale: string | undefined): string {
  if (count === 0) return EMPTY_VALUE_TEXT;
  if (locale?.toLowerCase().startsWith("ja")) return `${count}行`;
  return count === 1 ? "1 row" : `${count} rows`;
}

export function formatFieldValue(field: KintoneField | undefined, options: FormatFieldValueOptions): string {
  if (!field || field.value === null || field.value === undefined) return EMPTY_VALUE_TEXT;
  const { type, value } = field;

  if (ENTITY_FIELD_TYPES.has(type)) {
    return orDash(
      entityListValue(value)
        .map((e) => e.name || e.code)
        .join(", "),
    );
  }
  if (MULTI_CHOICE_FIELD_TYPES.has(type)) return orDash(stringListValue(value).join(", "));
  if (DATE_TIME_FIELD_TYPES.has(type)) {
    const raw = stringValue(value);
    return raw.trim() === "" ? EMPTY_VALUE_TEXT : formatDateTimeText(raw, options.timeZone);
  }

  switch (type) {
    case "RICH_TEXT":
      return orDash(richTextToPlain(stringValue(value)));
    case "NUMBER":
      return formatNumberText(stringValue(value), options.fieldProperty, false);
    case "CALC":
      return formatCalc(stringValue(value), options);
    case "DATE": {
      const raw = stringValue(value);
      return orDash(parseDate(raw) ? raw.trim() : raw);
    }
    case "TIME": {
      const raw = stringValue(value);
      return orDash(parseTime(raw) === undefined ? raw : raw.trim().slice(0, 5));
    }
    case "FILE":
      return orDash(fileNamesValue(value).join(", "));
    case "SUBTABLE":
      return rowsText(subtableRowCount(value), options.locale);
  }

  // Text-like types and anything unknown: show what is there, if it is readable.
  if (typeof value === "string" || typeof value === "number") return orDash(stringValue(value));
  if (Array.isArray(value)) {
    const strings = stringListValue(value);
    if (strings.length > 0) return strings.join(", ");
    const names = entityListValue(value).map((e) => e.name || e.code);
    return orDash(names.join(", "));
  }
  const entities = entityListValue(value);
  return orDash(entities.map((e) => e.name || e.code).join(", "));
}
