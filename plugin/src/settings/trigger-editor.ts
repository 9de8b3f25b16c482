/**
 * A rule's trigger: a process action (actions / from / to, drawn by rule-editor.ts) or a date
 * reminder (`trigger.schedule`: a DATE or DATETIME field, days before or after, a time). Also says
 * whether kintone's webhook can serve the rule (rules naming actions or a status before are
 * record-page only), and builds the reminder "change" the preview shows, with the same function
 * the relay sends reminders with (common/flex/reminder-line.ts).
 */
import { reminderChange } from "../../../common/flex/reminder-line";
import { instantToZoned, parseDate, parseDateTime } from "../../../common/kintone/date-time";
import type { FieldProperties, FieldProperty, KintoneRecord, StatusChange } from "../../../common/kintone/record";
import type { Rule, Schedule } from "../../../common/rules/rule-set";
import { Dropdown, Text, onValue } from "./kuc";
import type { EditorContext } from "./rule-editor";
import { triggerMessages, type TriggerMessages } from "./trigger-messages";

const DEFAULT_SCHEDULE: Omit<Schedule, "field"> = { offsetDays: -1, at: "09:00" };

/** The fields a reminder can be about: DATE and DATETIME. */
export const dateFields = (fields: FieldProperties): FieldProperty[] =>
  Object.values(fields).filter((f) => f.type === "DATE" || f.type === "DATETIME");

/** Why kintone's webhook cannot serve a status rule, or undefined when it can (docs/kintone-webhook.md). */
export function browserOnlyReason(rule: Rule, t: TriggerMessages): string | undefined {
  if (rule.trigger.schedule) return undefined;
  if (rule.trigger.actions.length > 0) return t.browserOnlyActions;
  if (rule.trigger.from.length > 0) return t.browserOnlyFrom;
  return undefined;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * The date a reminder for `record` is about: the record's date field (a DATETIME by its day in the
 * zone), else the date a reminder sent today would be about (today - offsetDays).
 */
function reminderDate(schedule: Schedule, record: KintoneRecord, timeZone: string, now: number): string {
  const field = Object.hasOwn(record, schedule.field) ? record[schedule.field] : undefined;
  const value = typeof field?.value === "string" ? field.value : "";
  if (field?.type === "DATE" && parseDate(value)) return value;
  if (field?.type === "DATETIME") {
    const at = parseDateTime(value, timeZone);
    if (at !== undefined) {
      const z = instantToZoned(at, timeZone);
      return `${pad(z.year, 4)}-${pad(z.month)}-${pad(z.day)}`;
    }
  }
  const today = instantToZoned(now, timeZone);
  const day = new Date(Date.UTC(today.year, today.month - 1, today.day - schedule.offsetDays));
  return `${pad(day.getUTCFullYear(), 4)}-${pad(day.getUTCMonth() + 1)}-${pad(day.getUTCDate())}`;
}

/** What the preview passes buildFlexMessage for a reminder rule: the relay's reminder line. */
export function reminderPreviewChange(
  schedule: Schedule,
  options: { record: KintoneRecord; fields: FieldProperties; timeZone: string; language: "ja" | "en"; now?: number },
): StatusChange {
  const property = Object.hasOwn(options.fields, schedule.field) ? options.fields[schedule.field] : undefined;
  return reminderChange({
    fieldLabel: property?.label ?? schedule.field,
    dateValue: reminderDate(schedule, options.record, options.timeZone, options.now ?? Date.now()),
    offsetDays: schedule.offsetDays,
    language: options.language,
  });
}

function div(className: string, ...children: (Node | null)[]): HTMLDivElement {
  const el = document.createElement("div");
  el.className = className;
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Registers a KUC control's `error` as the place for errors at `path`. */
function errorsAt<T extends HTMLElement & { error: string }>(ctx: EditorContext, path: string, control: T): T {
  control.dataset.errorPath = path;
  ctx.errors.register(path, (message) => {
    control.error = message;
  });
  return control;
}

function renderSchedule(rule: Rule, schedule: Schedule, path: string, ctx: EditorContext, t: TriggerMessages): HTMLElement {
  const candidates = dateFields(ctx.fields);
  const items = candidates.map((f) => ({ label: `${f.label} (${f.code})`, value: f.code }));
  // A field the app no longer has stays visible (with "?"), so that it can be seen and replaced.
  if (schedule.field && !items.some((i) => i.value === schedule.field)) items.push({ label: `${schedule.field} (?)`, value: schedule.field });
  const field = errorsAt(ctx, `${path}.field`, new Dropdown({ className: "kline-schedule-field", label: t.scheduleField, items, value: schedule.field }));
  field.style.setProperty("--kuc-dropdown-toggle-width", "260px");
  const days = errorsAt(ctx, `${path}.offsetDays`, new Text({
    className: "kline-schedule-days",
    label: t.scheduleDays,
    value: String(schedule.offsetDays),
    placeholder: "-1",
  }));
  const at = errorsAt(ctx, `${path}.at`, new Text({ className: "kline-schedule-at", label: t.scheduleAt, value: schedule.at, placeholder: "09:00" }));
  const when = div("kline-hint kline-schedule-when");
  when.setAttribute("aria-live", "polite");
  const say = (): void => {
    const property = Object.hasOwn(ctx.fields, schedule.field) ? ctx.fields[schedule.field] : undefined;
    when.textContent = t.scheduleWhen(schedule.offsetDays, property?.label ?? schedule.field, schedule.at);
  };
  onValue<string>(field, (code) => {
    schedule.field = code;
    say();
    ctx.changed();
  });
  onValue<string>(days, (text) => {
    // Whole numbers become numbers; anything else is kept as typed so the schema names the mistake.
    const trimmed = text.trim();
    schedule.offsetDays = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : (trimmed as unknown as number);
    say();
    ctx.changed();
  }, ["input"]);
  onValue<string>(at, (text) => {
    schedule.at = text.trim();
    say();
    ctx.changed();
  }, ["input"]);
  say();
  const none = candidates.length === 0 ? div("kline-error-line kline-schedule-no-field") : null;
  if (none) none.textContent = t.scheduleNoDateField;
  const relayHint = div("kline-hint kline-schedule-relay");
  relayHint.textContent = t.scheduleRelay;
  const box = div("kline-schedule", div("kline-row", field, days, at), none, when, relayHint);
  box.dataset.ruleId = rule.id;
  return box;
}

/**
 * The trigger of rule `ruleIndex`: the kind picker, then either `statusControls()` (the action /
 * from / to pickers) with a note on whether kintone's webhook can serve the rule, or the reminder's
 * controls. Changing the kind re-renders the rules.
 */
export function renderTriggerEditor(rule: Rule, ruleIndex: number, ctx: EditorContext, statusControls: () => HTMLElement): HTMLElement {
  const t = triggerMessages(ctx.language);
  const path = `rules.${ruleIndex}.trigger.schedule`;
  const kind = new Dropdown({
    className: "kline-trigger-kind",
    label: t.triggerKind,
    items: [{ label: t.kindStatus, value: "status" }, { label: t.kindSchedule, value: "schedule" }],
    value: rule.trigger.schedule ? "schedule" : "status",
  });
  // KUC's default 180px cuts 「日付（リマインダー）」 short.
  kind.style.setProperty("--kuc-dropdown-toggle-width", "260px");
  onValue<string>(kind, (value) => {
    if (value === "schedule" && !rule.trigger.schedule) {
      // A schedule takes no actions, from or to (rule-set.ts).
      rule.trigger = { actions: [], from: [], to: [], schedule: { field: dateFields(ctx.fields)[0]?.code ?? "", ...DEFAULT_SCHEDULE } };
    } else if (value === "status" && rule.trigger.schedule) {
      rule.trigger = { actions: [], from: [], to: [] };
    }
    ctx.restructure();
  });

  const box = div("kline-trigger", div("kline-row", kind));
  if (rule.trigger.schedule) {
    box.append(renderSchedule(rule, rule.trigger.schedule, path, ctx, t));
    return box;
  }
  const controls = statusControls();
  const note = div("kline-hint kline-webhook-serves");
  const refresh = (): void => {
    const why = browserOnlyReason(rule, t);
    note.classList.toggle("kline-browser-only", why !== undefined);
    note.textContent = why ? t.browserOnly(why) : t.webhookServed;
  };
  // The pickers update the rule in their own change handlers, which run after this capturing
  // listener: read the rule once they are done.
  controls.addEventListener("change", () => queueMicrotask(refresh), true);
  refresh();
  box.append(controls, note);
  return box;
}
