import { ruleSetTimeZone } from "../../../common/kintone/date-time.js";
import type { FieldProperties } from "../../../common/kintone/record.js";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import type { Rule } from "../../../common/rules/rule-set.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { AppRulesRow, ReminderPlan, RelayStore } from "../store/relay-store.js";
import type { KintoneRecordQuery } from "./kintone-record-query.js";
import { dayCondition, fieldDay, scheduleDue } from "./reminder-dates.js";

export interface ReminderSchedulerDeps {
  store: RelayStore;
  records: KintoneRecordQuery;
  formFields: { get(appId: string): Promise<FieldProperties> };
  clock: Clock;
  logger: Logger;
  /** Wakes the worker after reminders were enqueued. */
  onEnqueued: () => void;
  /** How often the clock is looked at (default 30 s): a reminder goes out at most this late. */
  intervalMs?: number;
}

export interface ReminderScheduler {
  /** Runs every reminder rule that is due now and has not run today. Returns how many were enqueued. */
  runDue(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Reminders (rules with `trigger.schedule`), from the apps' stored rule sets. Every `intervalMs`
 * the injected clock is read; a rule whose `at` has passed today (in the rule set's zone) and
 * whose day is not yet claimed runs: kintone is asked for the records whose field falls on
 * today - offsetDays, each is re-checked, and the day is claimed in the transaction that
 * enqueues their notifications. So a relay that was down at `at` catches up on its first look
 * that day, and no day runs twice, even with several relays on one store.
 */
export function createReminderScheduler(deps: ReminderSchedulerDeps): ReminderScheduler {
  const { store, clock, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function runRule(app: AppRulesRow, rule: Rule, timeZone: string): Promise<number> {
    const schedule = rule.trigger.schedule;
    if (!schedule) return 0;
    const { due, today, dateValue } = scheduleDue(schedule, clock.now(), timeZone);
    if (!due || (await store.hasReminderRun(app.appId, rule.id, today))) return 0;
    const fields = await deps.formFields.get(app.appId);
    const type = fields[schedule.field]?.type;
    if (type !== "DATE" && type !== "DATETIME") {
      logger.warn("reminder rule skipped: its field is not a DATE or DATETIME field of the app", { app: app.appId, rule: rule.id, field: schedule.field, type });
      return 0;
    }
    // The conditions are re-checked on each record by the notification job; the query narrows by date only.
    const records = await deps.records.findRecords(app.appId, dayCondition(schedule.field, type, dateValue, timeZone), []);
    const reminders: ReminderPlan[] = [];
    for (const record of records) {
      const recordId = String(record.$id?.value ?? "");
      // The query's answer is checked again here: a DATETIME judged in the zone, an emulator or proxy that answers loosely.
      if (recordId === "" || fieldDay(record[schedule.field], timeZone) !== dateValue) continue;
      reminders.push({
        recordId,
        dateValue,
        input: {
          appId: app.appId,
          recordId,
          action: "",
          status: "",
          nextStatus: "",
          rules: app.rules,
          source: "schedule",
          rulesVersion: app.version,
          ruleId: rule.id,
          subjectDate: dateValue,
        },
      });
    }
    const { claimed, enqueued } = await store.claimReminderRun(app.appId, rule.id, today, reminders, clock.now());
    logger.info(claimed ? "reminders enqueued" : "reminders already ran today", { app: app.appId, rule: rule.id, day: today, date: dateValue, found: records.length, enqueued });
    return enqueued;
  }

  async function runAll(): Promise<number> {
    let enqueued = 0;
    for (const app of await store.listAppRuleSets()) {
      const parsed = parseRuleSet(app.rules);
      if (!parsed.ok) continue;
      const timeZone = ruleSetTimeZone(parsed.ruleSet);
      for (const rule of parsed.ruleSet.rules) {
        if (!rule.trigger.schedule) continue;
        try {
          enqueued += await runRule(app, rule, timeZone);
        } catch (error) {
          // Not claimed: the next look tries again (still the same day, or never).
          logger.warn("reminder run failed; trying again at the next look", { app: app.appId, rule: rule.id, error: String(error) });
        }
      }
    }
    if (enqueued > 0) deps.onEnqueued();
    return enqueued;
  }

  const runDue = () => {
    running ??= runAll().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    runDue,
    start() {
      if (timer) return;
      void runDue();
      timer = setInterval(() => void runDue(), deps.intervalMs ?? 30_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
