import type { PushSender } from "../line/push-sender.js";
import { isLineMonthlyLimit } from "../quota/push-month.js";
import type { MetricsHooks } from "./metrics-hooks.js";

/** The push sender, counting each request's outcome in relay_pushes_total (its own module: the Reply/Push boundary). */
export function countPushes(sender: PushSender, metrics: Pick<MetricsHooks, "pushed">): PushSender {
  return {
    async send(method, body, retryKey) {
      const outcome = await sender.send(method, body, retryKey);
      if (outcome.kind === "accepted") metrics.pushed("sent");
      else if (outcome.kind === "duplicate") metrics.pushed("duplicate");
      else if (outcome.kind === "rejected") metrics.pushed("rejected");
      else metrics.pushed(isLineMonthlyLimit(outcome.status, outcome.message) ? "capped" : "retry");
      return outcome;
    },
  };
}
