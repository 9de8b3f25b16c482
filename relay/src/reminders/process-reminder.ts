import { randomUUID } from "node:crypto";
import { buildFlexMessage } from "../../../common/flex/build-flex-message.js";
import { reminderChange } from "../../../common/flex/reminder-line.js";
import { ruleSetTimeZone } from "../../../common/kintone/date-time.js";
import type { FieldProperties, KintoneRecord } from "../../../common/kintone/record.js";
import { evaluateWhen } from "../../../common/rules/match-rules.js";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import { newId } from "../ids.js";
import { KintoneError } from "../kintone/kintone-client.js";
import type { ProcessNotificationDeps } from "../notifications/process-notification.js";
import { planBatches, resolveRecipients } from "../notifications/resolve-recipients.js";
import type { DeliveryPlan, Job, NotificationRow, SkippedRecipient } from "../store/relay-store.js";
import type { JobResult } from "../worker/job-runner.js";
import { fieldDay } from "./reminder-dates.js";

/**
 * A reminder's notification job (source "schedule"): read the record, check that its date field
 * still falls on the date the reminder is about and that the rule's conditions hold on it, and
 * store the deliveries. Once per (rule, record, date value) was settled when it was enqueued.
 */
export function createReminderHandler(deps: ProcessNotificationDeps) {
  const { store, clock, logger } = deps;

  return async function processReminder(job: Job, notification: NotificationRow): Promise<JobResult> {
    const end = async (state: "no_match" | "record_missing" | "failed", detail: string) => {
      logger.info("reminder ended without sending", { notification: notification.id, state, detail });
      await store.finishNotification(job, notification.id, state, detail, clock.now());
      return { done: true } as const;
    };
    const parsed = parseRuleSet(notification.rules);
    if (!parsed.ok) return end("failed", `rule set invalid: ${parsed.errors[0]?.path} ${parsed.errors[0]?.message}`);
    const rule = parsed.ruleSet.rules.find((r) => r.id === notification.ruleId);
    const schedule = rule?.trigger.schedule;
    if (!rule || !schedule || !notification.subjectDate) return end("failed", `rule ${notification.ruleId} is not a reminder rule of this rule set`);
    const timeZone = ruleSetTimeZone(parsed.ruleSet);

    let record: KintoneRecord;
    let fields: FieldProperties;
    try {
      record = await deps.kintone.getRecord(notification.appId, notification.recordId);
      fields = await deps.formFields.get(notification.appId);
    } catch (error) {
      if (error instanceof KintoneError && error.isMissingRecord) return end("record_missing", error.message);
      if (error instanceof KintoneError && !error.retryable) return end("failed", error.message);
      throw error; // 429 / 5xx / network: the job runner backs off
    }
    const day = fieldDay(record[schedule.field], timeZone);
    if (day !== notification.subjectDate) {
      return end("no_match", `${schedule.field} is ${day ?? "empty"} now, not ${notification.subjectDate}: this reminder is no longer due`);
    }
    if (!evaluateWhen(rule.when, record, fields, { timeZone })) {
      return end("no_match", "the rule's conditions are false on the record as kintone stores it");
    }

    const language = languageOf(parsed.ruleSet);
    // The same change the settings page previews (common/flex/reminder-line.ts).
    const change = reminderChange({
      fieldLabel: fields[schedule.field]?.label ?? schedule.field,
      dateValue: notification.subjectDate,
      offsetDays: schedule.offsetDays,
      language,
    });
    const deliveries: DeliveryPlan[] = [];
    const skipped: SkippedRecipient[] = [];
    const { valid, invalid } = resolveRecipients(rule, record);
    for (const bad of invalid) skipped.push({ ruleId: rule.id, state: "invalid", ...bad });
    const reachable: string[] = [];
    for (const id of valid) {
      if (id.startsWith("U") && (await deps.isBlocked?.(id))) {
        skipped.push({ ruleId: rule.id, recipientId: id, state: "blocked", detail: "the user blocked the LINE account" });
      } else {
        reachable.push(id);
      }
    }
    for (const batch of planBatches(reachable)) {
      const id = newId("d");
      const message = buildFlexMessage({
        rule,
        record,
        fields,
        change,
        recordUrl: `${deps.kintoneBaseUrl}/k/${notification.appId}/show#record=${notification.recordId}`,
        postbackData: (button) => deps.tokens.sign({ deliveryId: id, buttonId: button.id }),
        timeZone,
        ...(language ? { locale: language } : {}),
      });
      deliveries.push({
        id,
        ruleId: rule.id,
        ruleName: rule.name ?? rule.id,
        method: batch.method,
        to: batch.to,
        body: JSON.stringify({ to: batch.method === "push" ? batch.to[0] : batch.to, messages: [message] }),
        retryKey: randomUUID(),
        buttons: JSON.stringify(rule.buttons),
      });
    }
    await store.dispatchNotification(job, notification.id, deliveries, skipped, clock.now());
    logger.info("reminder dispatched", { notification: notification.id, rule: rule.id, date: notification.subjectDate, deliveries: deliveries.length });
    return { done: true };
  };
}

/** The rule set's `language` ("ja" / "en") when it names one. */
function languageOf(ruleSet: object): "ja" | "en" | undefined {
  const language = (ruleSet as { language?: unknown }).language;
  return language === "ja" || language === "en" ? language : undefined;
}
