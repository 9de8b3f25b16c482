/**
 * `{{field_code}}` templates: message titles, button replies, write-back comments.
 *
 * - `{{ code }}` (spaces inside the braces allowed) is replaced by the record field's value as
 *   formatFieldValue shows it (an empty field shows "-").
 * - A name in `extra` (e.g. `{{lineName}}`) is replaced by that string. The caller names extras on
 *   purpose, so an extra wins over a record field with the same code.
 * - A placeholder that names neither is replaced by "" (a typo must not leak "{{...}}" to a
 *   customer; the settings page preview shows the gap).
 * - One pass: text that a value brings in is never expanded again, so a record value containing
 *   "{{secret}}" stays literal.
 */
import { EMPTY_VALUE_TEXT, formatFieldValue } from "../kintone/format-field-value.js";
import type { FieldProperties, KintoneRecord } from "../kintone/record.js";

export interface RenderTemplateOptions {
  timeZone: string;
  extra?: Record<string, string>;
  /** Form fields: NUMBER/CALC display settings, as in the message rows. */
  fields?: FieldProperties;
  locale?: string;
  /** What an empty field becomes (default "-", as in messages; write-backs into kintone pass ""). */
  emptyText?: string;
}

const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

export function renderTemplate(template: string, record: KintoneRecord, options: RenderTemplateOptions): string {
  const { extra, fields } = options;
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (extra && Object.hasOwn(extra, name)) return extra[name] ?? "";
    if (Object.hasOwn(record, name)) {
      const text = formatFieldValue(record[name], {
        timeZone: options.timeZone,
        locale: options.locale,
        fieldProperty: fields && Object.hasOwn(fields, name) ? fields[name] : undefined,
      });
      const literalDash = String(record[name]?.value ?? "") === EMPTY_VALUE_TEXT;
      return options.emptyText !== undefined && text === EMPTY_VALUE_TEXT && !literalDash ? options.emptyText : text;
    }
    return "";
  });
}

/** The placeholder names a template uses, in order, once each: for the settings page's checks. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1] ?? ""))];
}
