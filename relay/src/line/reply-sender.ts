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
  reply(replyToken: string, messages: ReplyMessage[]): Promise<LineCallOutcome<messagingApi.ReplyMessageResponse>>;
}

/** A plain text (sent as a text message), or a message built whole (a link button, quick replies). */
export type ReplyMessage = string | messagingApi.Message;

/** LINE takes 1 to 5 messages per reply; a text message holds at most 5,000 characters. */
const MAX_MESSAGES = 5;
const MAX_TEXT_LENGTH = 5000;

const replyAnswerSchema = z.object({
  sentMessages: z.array(z.object({ id: z.string(), quoteToken: z.string().optional() })),
}) satisfies z.ZodType<messagingApi.ReplyMessageResponse>;

export function replyRequest(replyToken: string, contents: ReplyMessage[]): messagingApi.ReplyMessageRequest {
  const messages: messagingApi.Message[] = contents
    .slice(0, MAX_MESSAGES)
    .map((content) => (typeof content === "string" ? { type: "text", text: content.slice(0, MAX_TEXT_LENGTH) } : content));
  return { replyToken, messages };
}

export function createReplySender(options: LineHttpOptions): ReplySender {
  return {
    reply: (replyToken, texts) =>
      callLine(options, { path: "/v2/bot/message/reply", body: JSON.stringify(replyRequest(replyToken, texts)), response: replyAnswerSchema }),
  };
}
