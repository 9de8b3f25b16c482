import type { messagingApi } from "@line/bot-sdk";
import { z } from "zod";
import { callLine, type LineCallOutcome, type LineHttpOptions } from "./line-http.js";

/**
 * The only module that sends LINE replies. Webhook code uses it; notification code must not
 * (scripts/check-boundaries.ts fails CI when it does). A reply token works once: the caller
 * decides whether it is still fresh; this module never falls back to a push. Not
 * `MessagingApiClient.replyMessage`: the SDK's call cannot time out (see line-http.ts), and a
 * worker waiting forever on one reply would hold up that user's later events.
 */
export interface ReplySender {
  reply(replyToken: string, texts: string[]): Promise<LineCallOutcome<messagingApi.ReplyMessageResponse>>;
}

/** LINE takes 1 to 5 messages per reply; a text message holds at most 5,000 characters. */
const MAX_MESSAGES = 5;
const MAX_TEXT_LENGTH = 5000;

const replyAnswerSchema = z.object({
  sentMessages: z.array(z.object({ id: z.string(), quoteToken: z.string().optional() })),
}) satisfies z.ZodType<messagingApi.ReplyMessageResponse>;

export function replyRequest(replyToken: string, texts: string[]): messagingApi.ReplyMessageRequest {
  const messages: messagingApi.TextMessage[] = texts.slice(0, MAX_MESSAGES).map((text) => ({ type: "text", text: text.slice(0, MAX_TEXT_LENGTH) }));
  return { replyToken, messages };
}

export function createReplySender(options: LineHttpOptions): ReplySender {
  return {
    reply: (replyToken, texts) =>
      callLine(options, { path: "/v2/bot/message/reply", body: JSON.stringify(replyRequest(replyToken, texts)), response: replyAnswerSchema }),
  };
}
