import { callLine, type LineCallOutcome, type LineHttpOptions } from "./line-http.js";

/**
 * The only module that sends LINE replies. Webhook code uses it; notification code must not
 * (scripts/check-boundaries.ts fails CI when it does). A reply token works once: the caller
 * decides whether it is still fresh; this module never falls back to a push.
 */
export interface ReplySender {
  reply(replyToken: string, texts: string[]): Promise<LineCallOutcome>;
}

export function createReplySender(options: LineHttpOptions): ReplySender {
  return {
    reply: (replyToken, texts) =>
      callLine(
        options,
        "/v2/bot/message/reply",
        JSON.stringify({ replyToken, messages: texts.slice(0, 5).map((text) => ({ type: "text", text: text.slice(0, 5000) })) }),
      ),
  };
}
