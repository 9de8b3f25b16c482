import { callLine, type LineCallOutcome, type LineHttpOptions } from "./line-http.js";

/**
 * The only module that sends LINE push / multicast messages. Notification code uses it; webhook
 * code must not (scripts/check-boundaries.ts fails CI when it does). Every call carries the
 * delivery's fixed X-Line-Retry-Key and resends the stored body byte for byte.
 */
export interface PushSender {
  send(method: "push" | "multicast", body: string, retryKey: string): Promise<LineCallOutcome>;
}

export function createPushSender(options: LineHttpOptions): PushSender {
  return {
    send: (method, body, retryKey) =>
      callLine(options, method === "push" ? "/v2/bot/message/push" : "/v2/bot/message/multicast", body, {
        "x-line-retry-key": retryKey,
      }),
  };
}
