/**
 * The line a reminder's message carries instead of a status change: which field, which date,
 * and how far off it is. In the rule set's language; both when it names none. Shared: the relay
 * sends it (relay/src/reminders/process-reminder.ts) and the settings page previews it.
 */
import type { StatusChange } from "../kintone/record.js";

export interface ReminderLineOptions {
  /** The date field's label (its code when the form has no label). */
  fieldLabel: string;
  /** The date the reminder is about, YYYY-MM-DD. */
  dateValue: string;
  /** The rule's offsetDays: -1 is sent the day before the date. */
  offsetDays: number;
  language: "ja" | "en" | undefined;
}

export function reminderLine(options: ReminderLineOptions): string {
  const { fieldLabel, dateValue, offsetDays, language } = options;
  const ja = `リマインダー：${fieldLabel} ${dateValue}（${relativeJa(-offsetDays)}）`;
  const en = `Reminder: ${fieldLabel} ${dateValue} (${relativeEn(-offsetDays)})`;
  if (language === "ja") return ja;
  if (language === "en") return en;
  return `${ja} / ${en}`;
}

/**
 * What buildFlexMessage gets as the "change" of a reminder: no status moved, so its status line
 * is the reminder line.
 */
export function reminderChange(options: ReminderLineOptions): StatusChange {
  return { action: reminderLine(options), status: "", nextStatus: "" };
}

/** `days` from today to the date: 1 = tomorrow, -2 = two days ago. */
function relativeJa(days: number): string {
  if (days === 0) return "今日";
  if (days === 1) return "明日";
  if (days === -1) return "昨日";
  return days > 0 ? `${days}日後` : `${-days}日前`;
}

function relativeEn(days: number): string {
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days === -1) return "yesterday";
  return days > 0 ? `in ${days} days` : `${-days} days ago`;
}
