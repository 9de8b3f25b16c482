import type { Clock } from "../clock.js";
import type { ReplyMessage, ReplySender } from "../line/reply-sender.js";
import type { Logger } from "../logger.js";
import type { WebhookEventRow } from "../store/relay-store.js";

export class ReplyRetryLater extends Error {
  override readonly name = "ReplyRetryLater";
}

/**
 * Spends an event's reply token at most once and only while it is fresh: LINE accepts a reply
 * within one minute of the webhook; we stop `deadlineMs` after the earlier of the event's
 * timestamp and its arrival. Past that the reply is skipped and logged, never turned into a push.
 *
 * One per run of an event. An accepted reply is reported to `onReplied`, and the caller commits
 * the mark with the event's end (one commit per event). If that commit is lost (a crash between
 * LINE's answer and the commit), the re-run's reply is refused by LINE: a reply token works once
 * (https://developers.line.biz/en/reference/messaging-api/#send-reply-message), so the user never
 * gets a second message; the event ends "reply refused".
 */
export function createReplyOnce(deps: { replies: ReplySender; clock: Clock; logger: Logger; deadlineMs: number; onReplied: () => void }) {
  let repliedThisRun = false;
  return async function replyOnce(event: WebhookEventRow, replyToken: string | undefined, texts: ReplyMessage[]): Promise<string> {
    if (!replyToken) return "no reply token";
    if (event.replied || repliedThisRun) return "already replied";
    const age = deps.clock.now() - Math.min(event.timestamp, event.receivedAt);
    if (age > deps.deadlineMs) {
      deps.logger.warn("reply skipped: the reply token is past its deadline", {
        event: event.eventId,
        ageMs: age,
        deadlineMs: deps.deadlineMs,
      });
      return "reply skipped (deadline)";
    }
    const outcome = await deps.replies.reply(replyToken, texts);
    switch (outcome.kind) {
      case "accepted":
      case "duplicate":
        repliedThisRun = true;
        deps.onReplied();
        return "replied";
      case "rejected":
        // "Invalid reply token": used or expired. Retrying cannot help; a push is not an option.
        deps.logger.warn("reply refused by LINE; not retried", { event: event.eventId, status: outcome.status, message: outcome.message });
        return `reply refused: ${outcome.message}`;
      case "retryable":
        throw new ReplyRetryLater(outcome.message);
    }
  };
}
