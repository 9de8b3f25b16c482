import type { messagingApi } from "@line/bot-sdk";
import { z } from "zod";
import { callLine, type LineCallOutcome, type LineHttpOptions } from "./line-http.js";

/**
 * The only module that sends LINE push / multicast messages. Notification code uses it; webhook
 * code must not (scripts/check-boundaries.ts fails CI when it does). Every call carries the
 * delivery's fixed X-Line-Retry-Key and resends the stored body byte for byte, which is why this is
 * not `MessagingApiClient.pushMessage(request, retryKey)`: the SDK serialises the request object
 * again on every call and offers no timeout (see line-http.ts).
 */
export interface PushSender {
  /**
   * `body` is the stored JSON of a `messagingApi.PushMessageRequest` (push) or
   * `messagingApi.MulticastRequest` (multicast), fixed before the first attempt.
   */
  send(method: "push" | "multicast", body: string, retryKey: string): Promise<LineCallOutcome<PushAnswer>>;
}

/** LINE answers a push with the sent messages' IDs and a multicast with `{}`. */
export type PushAnswer = messagingApi.PushMessageResponse;

const pushAnswerSchema = z.object({
  sentMessages: z.array(z.object({ id: z.string(), quoteToken: z.string().optional() })),
}) satisfies z.ZodType<messagingApi.PushMessageResponse>;

export function createPushSender(options: LineHttpOptions): PushSender {
  return {
    send: (method, body, retryKey) =>
      method === "push"
        ? callLine(options, { path: "/v2/bot/message/push", body, headers: { "x-line-retry-key": retryKey }, response: pushAnswerSchema })
        : callLine<PushAnswer>(options, { path: "/v2/bot/message/multicast", body, headers: { "x-line-retry-key": retryKey } }),
  };
}
