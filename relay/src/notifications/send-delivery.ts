import type { Clock } from "../clock.js";
import type { PushSender } from "../line/push-sender.js";
import type { Logger } from "../logger.js";
import type { MetricsHooks } from "../metrics/metrics-hooks.js";
import { isLineMonthlyLimit, pushMonthOf } from "../quota/push-month.js";
import type { Job, RelayStore } from "../store/relay-store.js";
import { backoffMs, type JobResult } from "../worker/job-runner.js";

export interface SendDeliveryDeps {
  store: RelayStore;
  push: PushSender;
  clock: Clock;
  logger: Logger;
  retryBaseMs?: number;
  /** RELAY_MONTHLY_PUSH_CAP: recipients per calendar month; absent: pushes are only counted. */
  monthlyPushCap?: number;
  /** RELAY_TIMEZONE: whose calendar months the cap counts (default Asia/Tokyo). */
  timeZone?: string;
  metrics?: Pick<MetricsHooks, "pushed">;
}

/**
 * The delivery job: send the stored request with its fixed retry key. 2xx and 409 (an earlier
 * attempt was accepted) are "sent"; 429, 5xx, timeouts and token failures are transient: they
 * back off (LINE's Retry-After when it sent one) and resend the same bytes, however long LINE is
 * away, until RELAY_GIVE_UP_AFTER_MS makes the delivery a dead letter (the job runner); any other
 * 4xx is permanent and fails the delivery with LINE's status and message.
 *
 * Before the push, its recipients are counted against the month's RELAY_MONTHLY_PUSH_CAP in the
 * transaction that decides (store.reservePush): past the cap it ends `capped` and nothing is sent.
 * LINE's own 429 "monthly limit" ends it `capped` too, and nothing more is pushed that month.
 * Replies are not pushes: they are never counted nor capped.
 */
export function createDeliveryHandler(deps: SendDeliveryDeps) {
  const { store, clock, logger } = deps;

  return async function sendDelivery(job: Job): Promise<JobResult> {
    const delivery = await store.getDelivery(job.refId);
    if (!delivery || delivery.state !== "pending") {
      await store.finishJob(job);
      return { done: true };
    }
    const month = pushMonthOf(clock.now(), deps.timeZone ?? "Asia/Tokyo");
    const reservation = await store.reservePush(job, delivery.id, month, deps.monthlyPushCap ?? null, clock.now());
    if (reservation.kind === "capped") {
      deps.metrics?.pushed("capped");
      const why =
        reservation.reason === "cap"
          ? `RELAY_MONTHLY_PUSH_CAP (${deps.monthlyPushCap}) reached for ${reservation.month}: ${reservation.pushed} pushed`
          : `LINE said the channel reached its monthly limit in ${reservation.month}`;
      // Once per month across instances (the store decides who is first): an operator must act.
      if (reservation.firstThisMonth) logger.error(`monthly push limit reached: nothing more is pushed until next month (${why})`, { delivery: delivery.id, month: reservation.month });
      logger.warn("delivery capped: not pushed", { delivery: delivery.id, recipients: delivery.to.length, reason: reservation.reason, month: reservation.month });
      return { done: true };
    }
    const outcome = await deps.push.send(delivery.method, delivery.body, delivery.retryKey);
    switch (outcome.kind) {
      case "accepted":
      case "duplicate": {
        const requestId = outcome.kind === "accepted" ? outcome.requestId : outcome.acceptedRequestId;
        await store.finishDelivery(job, delivery.id, "sent", requestId ? `x-line-request-id ${requestId}` : null, clock.now());
        logger.info("delivery sent", { delivery: delivery.id, method: delivery.method, recipients: delivery.to.length, requestId, duplicate: outcome.kind === "duplicate" });
        return { done: true };
      }
      case "rejected": {
        const detail = [outcome.message, ...outcome.details.map((d) => `${d.property ?? ""}: ${d.message ?? ""}`)].join("; ");
        await store.finishDelivery(job, delivery.id, "failed", `LINE ${outcome.status}: ${detail}`, clock.now());
        logger.warn("delivery refused by LINE", { delivery: delivery.id, status: outcome.status, detail });
        return { done: true };
      }
      case "retryable": {
        if (isLineMonthlyLimit(outcome.status, outcome.message)) {
          // Not retried: LINE has no messages left for the month. The month is marked so later
          // deliveries are capped without asking LINE again.
          const detail = `not sent: ${outcome.message}`;
          const { firstThisMonth } = await store.capDeliveryAtLineLimit(job, delivery.id, month, detail, clock.now());
          if (firstThisMonth) logger.error("monthly push limit reached: LINE refused a push with its monthly limit; nothing more is pushed until next month", { delivery: delivery.id, month, message: outcome.message });
          logger.warn("delivery capped by LINE's monthly limit", { delivery: delivery.id, recipients: delivery.to.length, month });
          return { done: true };
        }
        const delay = outcome.retryAfterMs ?? backoffMs(job.attempts, deps.retryBaseMs ?? 1000);
        if (outcome.retryAfterCappedFrom !== undefined) logger.warn("LINE's Retry-After capped", { delivery: delivery.id, retryAfter: outcome.retryAfterCappedFrom, cappedMs: delay });
        logger.info("delivery will be retried", { delivery: delivery.id, attempt: job.attempts + 1, retryInMs: delay, message: outcome.message });
        return { retryInMs: delay, note: outcome.message };
      }
    }
  };
}
