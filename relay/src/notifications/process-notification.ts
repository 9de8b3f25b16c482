import { randomUUID } from "node:crypto";
import type { FieldProperties, KintoneRecord, StatusChange } from "../../../common/kintone/record.js";
import { buildFlexMessage } from "../../../common/flex/build-flex-message.js";
import { evaluateWhen, matchesTrigger } from "../../../common/rules/match-rules.js";
import { ruleSetTimeZone } from "../../../common/kintone/date-time.js";
import type { Language } from "../../../common/i18n/relay-texts.js";
import { checkRuleSet } from "../../../common/rules/check-rule-set.js";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import type { Rule, RuleSet } from "../../../common/rules/rule-set.js";
import type { Clock } from "../clock.js";
import { newId } from "../ids.js";
import { KintoneError, type KintoneClient } from "../kintone/kintone-client.js";
import type { Logger } from "../logger.js";
import type { PostbackTokens } from "../postback-token.js";
import type {
  DeliveryPlan,
  Job,
  NotificationRow,
  NotifiedTransition,
  NotifiedTransitionClaim,
  RelayStore,
  SkippedRecipient,
} from "../store/relay-store.js";
import { retryDelayMs } from "../worker/backoff.js";
import type { JobResult } from "../worker/job-runner.js";
import { decideNotifyOnce } from "./notify-once.js";
import { canonicalRules } from "../apps/rules-body.js";
import { selectWebhookRules, webhookCandidates } from "./webhook-triggers.js";
import { createReminderHandler } from "../reminders/process-reminder.js";
import { kintoneUsersOf, planBatches, reachKintoneUsers, resolveRecipients } from "./resolve-recipients.js";
import type { DeliveryRecipientUser } from "../approvals/approval-store.js";

export interface ProcessNotificationDeps {
  store: RelayStore;
  kintone: KintoneClient;
  formFields: { get(appId: string): Promise<FieldProperties> };
  tokens: PostbackTokens;
  clock: Clock;
  logger: Logger;
  kintoneBaseUrl: string;
  timeZone: string;
  confirmTimeoutMs: number;
  /** First delay of the backoff after a transient kintone failure (doubles per attempt; default 1 s). */
  retryBaseMs?: number;
  /** RELAY_LANGUAGE: the message texts when the rule set names no language (default "ja"). */
  language?: Language;
  /** Users who blocked the account: recorded as "blocked", never pushed to. */
  isBlocked?: (userId: string) => Promise<boolean>;
}

/** Waits between status reads: 250 ms growing to 3 s, so a normal commit is seen within ~0.5 s. */
const confirmDelayMs = (attempts: number) => Math.min(3000, 250 * 1.6 ** attempts);

/**
 * The notification job: confirm the status change in kintone, re-check the rules on the record
 * the relay read itself, and turn every match into stored deliveries (one push or multicast each,
 * body and retry key fixed before the first attempt). Nothing is sent here.
 */
export function createNotificationHandler(deps: ProcessNotificationDeps) {
  const { store, clock, logger } = deps;

  const processReminder = createReminderHandler(deps);

  return async function processNotification(job: Job): Promise<JobResult> {
    const notification = await store.getNotification(job.refId);
    if (!notification || notification.state !== "pending") {
      // Already finished by an earlier run that died before marking the job done.
      await store.finishJob(job);
      return { done: true };
    }
    if (notification.source === "schedule") return processReminder(job, notification);
    if (notification.rulesVersion === null) {
      // A plugin request carries the rule set itself: name the stored version it is.
      const version = await store.findAppRulesVersion(notification.appId, canonicalRules(notification.rules));
      if (version !== undefined) await store.setNotificationRulesVersion(notification.id, version);
    }
    const fromWebhook = notification.source === "kintone-webhook";
    const end = async (state: "not_confirmed" | "no_match" | "record_missing" | "failed" | "already_notified", detail: string) => {
      logger.info("notification ended without sending", { notification: notification.id, state, detail });
      await store.finishNotification(job, notification.id, state, detail, clock.now());
      return { done: true } as const;
    };

    const parsed = parseRuleSet(notification.rules);
    if (!parsed.ok) return end("failed", `rule set invalid: ${parsed.errors[0]?.path} ${parsed.errors[0]?.message}`);
    const change: StatusChange = {
      action: notification.action,
      status: notification.status,
      nextStatus: notification.nextStatus,
    };
    const triggered = fromWebhook
      ? webhookCandidates(parsed.ruleSet.rules, notification.nextStatus)
      : parsed.ruleSet.rules.filter((rule) => matchesTrigger(rule, change));
    if (triggered.length === 0) return end("no_match", `no rule's trigger matches ${describe(change)}`);

    // The confirm bound counts only time in which kintone answered: it starts at the first answer
    // that still shows the old status, and an outage (429, 5xx, no answer) starts it afresh.
    const deadline = (job.waitingSince ?? clock.now()) + deps.confirmTimeoutMs;
    let record: KintoneRecord;
    try {
      record = await deps.kintone.getRecord(notification.appId, notification.recordId);
    } catch (error) {
      if (error instanceof KintoneError && error.isMissingRecord) return end("record_missing", error.message);
      if (error instanceof KintoneError && !error.retryable) return end("failed", error.message);
      // Transient, however long: the job runner gives up after RELAY_GIVE_UP_AFTER_MS (a dead letter).
      return { retryInMs: retryDelayMs(error instanceof KintoneError ? error.retryAfterMs : undefined, job.attempts, deps.retryBaseMs), note: (error as Error).message };
    }

    const status = Object.values(record).find((field) => field.type === "STATUS");
    if (!status) return end("failed", `app ${notification.appId} has no process management status field`);
    if (status.value !== notification.nextStatus && fromWebhook) {
      // kintone sends the webhook after the change committed: a different status now means it moved on.
      return end("not_confirmed", `the record is in "${String(status.value)}" now, no longer in "${notification.nextStatus}" (webhook)`);
    }
    if (status.value !== notification.nextStatus) {
      const waited = `status is "${String(status.value)}", waiting for "${notification.nextStatus}"`;
      if (clock.now() >= deadline) {
        return end("not_confirmed", `${waited}; gave up after ${Math.round(deps.confirmTimeoutMs / 1000)} s`);
      }
      return { waitMs: Math.max(10, Math.min(confirmDelayMs(job.attempts), deadline - clock.now())), note: waited };
    }

    let fields: FieldProperties;
    try {
      fields = await deps.formFields.get(notification.appId);
    } catch (error) {
      if (error instanceof KintoneError && !error.retryable) return end("failed", error.message);
      // 429 / 5xx / network: transient; backs off, and becomes a dead letter (the notification
      // failed, its dedup key free again) after RELAY_GIVE_UP_AFTER_MS rather than stay pending.
      return { retryInMs: retryDelayMs(error instanceof KintoneError ? error.retryAfterMs : undefined, job.attempts, deps.retryBaseMs), note: (error as Error).message };
    }
    const timeZone = ruleSetTimeZone(parsed.ruleSet);
    // Mistakes only the app's form shows (deleted fields, typos in placeholders, values of the
    // wrong type): a rule holding one sends nothing rather than a wrong message.
    const misfits = checkRuleSet({ ...parsed.ruleSet, rules: triggered }, fields);
    if (misfits.length > 0) {
      return end("failed", `rule set does not fit the app's fields: ${misfits.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    }
    let matched = triggered.filter((rule) => evaluateWhen(rule.when, record, fields, { timeZone }));
    if (matched.length === 0) return end("no_match", "the rules' conditions are false on the record as kintone stores it");

    // Notified once per status change: each matching rule is checked against what the relay last
    // notified for this record (notify-once.ts says how), and recorded with the deliveries.
    const revision = Number(record["$revision"]?.value);
    if (!Number.isSafeInteger(revision)) return end("failed", "kintone returned the record without its $revision");
    // The last status the relay saw, per record: what lets a webhook-only change judge "from".
    const seenBefore = await store.lastStatusSeenBefore(notification.appId, notification.recordId, revision);
    await store.recordStatusSeen(notification.appId, notification.recordId, revision, notification.nextStatus, clock.now());
    let claimedFrom = notification.status;
    if (fromWebhook) {
      claimedFrom = seenBefore?.status ?? "";
      const selection = selectWebhookRules(matched, { from: seenBefore?.status, to: notification.nextStatus });
      if (selection.skipped.length > 0) logger.info("rules a webhook cannot serve", { notification: notification.id, skipped: selection.skipped });
      if (selection.rules.length === 0) {
        return end("no_match", selection.skipped.length > 0 ? selection.skipped.join("; ") : `no rule's trigger matches the change into "${notification.nextStatus}"`);
      }
      matched = selection.rules;
    }
    const earlier = new Map(
      (await store.listNotifiedTransitions(notification.appId, notification.recordId)).map((row) => [row.ruleId, row]),
    );
    const fresh: Rule[] = [];
    const claims: NotifiedTransitionClaim[] = [];
    const replayed: NotifiedTransition[] = [];
    for (const rule of matched) {
      const previous = earlier.get(rule.id);
      const decision = decideNotifyOnce(previous, { revision, status: notification.nextStatus, claimedFrom });
      if (!decision.notify) {
        replayed.push(decision.earlier);
        continue;
      }
      fresh.push(rule);
      claims.push({ ruleId: rule.id, revision, status: notification.nextStatus, replaces: previous?.revision ?? null });
    }
    if (fresh.length === 0) {
      return end("already_notified", `skipped: already notified ${describeEarlier(replayed)}; the record has not changed status since (revision ${revision})`);
    }
    if (replayed.length > 0) {
      logger.info("rules already notified for this status change are left out", {
        notification: notification.id,
        rules: replayed.map((row) => row.ruleId),
      });
    }

    const deliveries: DeliveryPlan[] = [];
    const skipped: SkippedRecipient[] = [];
    const recipientUsers: DeliveryRecipientUser[] = [];
    for (const rule of fresh) {
      const { valid, invalid } = resolveRecipients(rule, record);
      for (const bad of invalid) skipped.push({ ruleId: rule.id, state: "invalid", ...bad });
      // kintone users (the assignees after the change, named users) on the LINE account they linked.
      const codes = kintoneUsersOf(rule, record);
      const { reached, notLinked } = reachKintoneUsers(codes, codes.length > 0 ? await store.userLinks.getLinksByKintoneUsers(codes) : []);
      for (const miss of notLinked) skipped.push({ ruleId: rule.id, state: "not_linked", ...miss });
      const sentAs = new Map<string, string>();
      const candidates = new Set(valid);
      for (const { kintoneUserCode, lineUserId } of reached) {
        if (!sentAs.has(lineUserId)) sentAs.set(lineUserId, kintoneUserCode);
        candidates.add(lineUserId);
      }
      const reachable: string[] = [];
      for (const id of candidates) {
        if (id.startsWith("U") && (await deps.isBlocked?.(id))) {
          skipped.push({ ruleId: rule.id, recipientId: id, state: "blocked", detail: "the user blocked the LINE account" });
        } else {
          reachable.push(id);
        }
      }
      for (const batch of planBatches(reachable)) {
        const plan = planDelivery(deps, notification, rule, record, fields, change, batch, timeZone, parsed.ruleSet);
        deliveries.push(plan);
        for (const lineUserId of batch.to) {
          const kintoneUserCode = sentAs.get(lineUserId);
          if (kintoneUserCode !== undefined) recipientUsers.push({ deliveryId: plan.id, lineUserId, kintoneUserCode });
        }
      }
    }
    // Before the dispatch that makes the deliveries visible: a tap can only come after it, and a
    // dispatch that loses its race leaves rows naming deliveries that never exist (never read).
    await store.approvals.rememberRecipientUsers(recipientUsers, clock.now());
    const { conflict } = await store.dispatchNotification(job, notification.id, deliveries, skipped, clock.now(), claims);
    if (conflict) {
      // Another notification for this record recorded its change first; nothing was committed.
      return { waitMs: 0, note: "another notification for this record was dispatched meanwhile; deciding again" };
    }
    logger.info("notification dispatched", {
      notification: notification.id,
      deliveries: deliveries.length,
      skipped: skipped.length,
    });
    return { done: true };
  };
}

function planDelivery(
  deps: ProcessNotificationDeps,
  notification: NotificationRow,
  rule: Rule,
  record: KintoneRecord,
  fields: FieldProperties,
  change: StatusChange,
  batch: { method: "push" | "multicast"; to: string[] },
  timeZone: string,
  ruleSet: Pick<RuleSet, "language" | "texts">,
): DeliveryPlan {
  const id = newId("d");
  const message = buildFlexMessage({
    rule,
    record,
    fields,
    change,
    recordUrl: `${deps.kintoneBaseUrl}/k/${notification.appId}/show#record=${notification.recordId}`,
    postbackData: (button) => deps.tokens.sign({ deliveryId: id, buttonId: button.id }),
    timeZone,
    locale: ruleSet.language ?? deps.language ?? "ja",
    texts: ruleSet.texts,
  });
  const to = batch.method === "push" ? batch.to[0] : batch.to;
  return {
    id,
    ruleId: rule.id,
    ruleName: rule.name ?? rule.id,
    method: batch.method,
    to: batch.to,
    body: JSON.stringify({ to, messages: [message] }),
    retryKey: randomUUID(),
    buttons: JSON.stringify(rule.buttons),
  };
}

const describeEarlier = (rows: NotifiedTransition[]) =>
  rows.map((row) => `as ${row.notificationId} (rule ${row.ruleId}, revision ${row.revision}, "${row.status}")`).join(", ");

const describe = (change: StatusChange) => `"${change.action}": "${change.status}" -> "${change.nextStatus}"`;
