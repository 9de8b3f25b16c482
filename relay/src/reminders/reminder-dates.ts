import { dayRangeInZone, instantToZoned, parseDate, parseDateTime } from "../../../common/kintone/date-time.js";
import type { KintoneField } from "../../../common/kintone/record.js";
import type { Schedule } from "../../../common/rules/rule-set.js";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayInZone(epochMs: number, timeZone: string): string {
  const z = instantToZoned(epochMs, timeZone);
  return `${pad(z.year, 4)}-${pad(z.month)}-${pad(z.day)}`;
}

/** YYYY-MM-DD plus `days` (negative: before). */
export function addDays(day: string, days: number): string {
  const date = parseDate(day);
  if (!date) throw new Error(`not a date: ${day}`);
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return `${pad(moved.getUTCFullYear(), 4)}-${pad(moved.getUTCMonth() + 1)}-${pad(moved.getUTCDate())}`;
}

/**
 * Whether a rule's reminders are due now: today (in the zone) at or after `at`. The day ends at
 * midnight: a relay down all day from `at` to midnight sends that day's reminders never, rather
 * than a day late.
 */
export function scheduleDue(schedule: Schedule, now: number, timeZone: string): { due: boolean; today: string; dateValue: string } {
  const z = instantToZoned(now, timeZone);
  const today = dayInZone(now, timeZone);
  const [hour, minute] = schedule.at.split(":").map(Number) as [number, number];
  const due = z.hour * 60 + z.minute >= hour * 60 + minute;
  // Sent on field + offsetDays: the date value looked for today is today - offsetDays.
  return { due, today, dateValue: addDays(today, -schedule.offsetDays) };
}

/** The day a DATE or DATETIME field's value falls on in the zone, or undefined (empty, other type). */
export function fieldDay(field: KintoneField | undefined, timeZone: string): string | undefined {
  if (!field || typeof field.value !== "string" || field.value === "") return undefined;
  if (field.type === "DATE") return parseDate(field.value) ? field.value : undefined;
  if (field.type === "DATETIME") {
    const at = parseDateTime(field.value, timeZone);
    return at === undefined ? undefined : dayInZone(at, timeZone);
  }
  return undefined;
}

/** kintone's "2012-02-03T09:00:00Z" form (https://cybozu.dev/ja/kintone/docs/overview/query/). */
const queryInstant = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The kintone query condition for "`field` falls on `day`": `=` for a DATE field; for a DATETIME
 * field the day's [start, end) in the zone as `>=` / `<` instants.
 */
export function dayCondition(fieldCode: string, fieldType: "DATE" | "DATETIME", day: string, timeZone: string): string {
  if (fieldType === "DATE") return `${fieldCode} = "${day}"`;
  const date = parseDate(day);
  if (!date) throw new Error(`not a date: ${day}`);
  const { start, end } = dayRangeInZone(date, timeZone);
  return `${fieldCode} >= "${queryInstant(start)}" and ${fieldCode} < "${queryInstant(end)}"`;
}
