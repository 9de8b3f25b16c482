import type { ReplySender } from "../line/reply-sender.js";
import type { MetricsHooks } from "./metrics-hooks.js";

/** The reply sender, counting each request's outcome in relay_replies_total (its own module: the Reply/Push boundary). */
export function countReplies(sender: ReplySender, metrics: Pick<MetricsHooks, "replied">): ReplySender {
  return {
    async reply(replyToken, texts) {
      const outcome = await sender.reply(replyToken, texts);
      metrics.replied(outcome.kind === "accepted" || outcome.kind === "duplicate" ? "sent" : outcome.kind === "rejected" ? "rejected" : "retry");
      return outcome;
    },
  };
}
