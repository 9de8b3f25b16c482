import type { Clock } from "../clock.js";
import type { PushSender } from "../line/push-sender.js";
import type { Logger } from "../logger.js";
import type { Job, RelayStore } from "../store/relay-store.js";
import { backoffMs, type JobResult } from "../worker/job-runner.js";

export interface SendDeliveryDeps {
  store: RelayStore;
  push: PushSender;
  clock: Clock;
  logger: Logger;
  retryBaseMs?: number;
}

/**
 * The delivery job: send the stored request with its fixed retry key. 2xx and 409 (an earlier
 * attempt was accepted) are "sent"; 429, 5xx, timeouts and token failures are transient: they
 * back off (LINE's Retry-After when it sent one) and resend the same bytes, however long LINE is
 * away, until RELAY_GIVE_UP_AFTER_MS makes the delivery a dead letter (the job runner); any other
 * 4xx is permanent and fails the delivery with LINE's status and message.
 */
export function createDeliveryHandler(deps: SendDeliveryDeps) {
  const { store, clock, logger } = deps;

  return async function sendDelivery(job: Job): Promise<JobResult> {
    const delivery = await store.getDelivery(job.refId);
    if (!delivery || delivery.state !== "pending") {
      await store.finishJob(job.id);
      return { done: true };
    }
    const outcome = await deps.push.send(delivery.method, delivery.body, delivery.retryKey);
    switch (outcome.kind) {
      case "accepted":
      case "duplicate": {
        const requestId = outcome.kind === "accepted" ? outcome.requestId : outcome.acceptedRequestId;
        await store.finishDelivery(job.id, delivery.id, "sent", requestId ? `x-line-request-id ${requestId}` : null, clock.now());
        logger.info("delivery sent", { delivery: delivery.id, method: delivery.method, recipients: delivery.to.length, requestId, duplicate: outcome.kind === "duplicate" });
        return { done: true };
      }
      case "rejected": {
        const detail = [outcome.message, ...outcome.details.map((d) => `${d.property ?? ""}: ${d.message ?? ""}`)].join("; ");
        await store.finishDelivery(job.id, delivery.id, "failed", `LINE ${outcome.status}: ${detail}`, clock.now());
        logger.warn("delivery refused by LINE", { delivery: delivery.id, status: outcome.status, detail });
        return { done: true };
      }
      case "retryable": {
        const delay = outcome.retryAfterMs ?? backoffMs(job.attempts, deps.retryBaseMs ?? 1000);
        if (outcome.retryAfterCappedFrom !== undefined) logger.warn("LINE's Retry-After capped", { delivery: delivery.id, retryAfter: outcome.retryAfterCappedFrom, cappedMs: delay });
        logger.info("delivery will be retried", { delivery: delivery.id, attempt: job.attempts + 1, retryInMs: delay, message: outcome.message });
        return { retryInMs: delay, note: outcome.message };
      }
    }
  };
}
