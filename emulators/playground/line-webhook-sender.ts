/**
 * What the LINE Platform does when a user taps a postback button or sends a text: issue a reply
 * token, build the webhook event, sign the body with the channel secret (x-line-signature) and POST
 * it to the bot's webhook URL. The playground's phone pane uses it; the secret never reaches the page.
 */
import { createHmac, randomBytes } from "node:crypto";

export interface LineWebhookSenderOptions {
  /** The bot's webhook, e.g. http://localhost:8787/line/webhook. */
  webhookUrl: string;
  channelSecret: string;
  /** The bot's user ID, as LINE puts it in `destination`. */
  botUserId: string;
  /** From the LINE emulator: a reply token for this source (works once, within a minute). */
  issueReplyToken: (source: { userId: string }) => string;
  now?: () => number;
}

export interface WebhookSent {
  status: number;
  webhookEventId: string;
}

/** x-line-signature: base64(HMAC-SHA256(channel secret, raw body)). */
export function signWebhookBody(body: string, channelSecret: string): string {
  return createHmac("sha256", channelSecret).update(body).digest("base64");
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID, the shape of LINE's webhookEventId. */
export function newWebhookEventId(now: number): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = [...randomBytes(16)].map((byte) => CROCKFORD[byte % 32]).join("");
  return time + random;
}

export function createLineWebhookSender(options: LineWebhookSenderOptions) {
  const now = options.now ?? Date.now;

  async function send(event: Record<string, unknown>): Promise<WebhookSent> {
    const webhookEventId = newWebhookEventId(now());
    const body = JSON.stringify({
      destination: options.botUserId,
      events: [{ ...event, mode: "active", timestamp: now(), webhookEventId, deliveryContext: { isRedelivery: false } }],
    });
    const response = await fetch(options.webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-line-signature": signWebhookBody(body, options.channelSecret) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return { status: response.status, webhookEventId };
  }

  return {
    /** The user tapped a postback action whose data is `data`. */
    postback(userId: string, data: string): Promise<WebhookSent> {
      return send({
        type: "postback",
        source: { type: "user", userId },
        replyToken: options.issueReplyToken({ userId }),
        postback: { data },
      });
    },
    /** The user sent a text message (e.g. a link code from the record page). */
    text(userId: string, text: string): Promise<WebhookSent> {
      const id = String(now()) + String(randomBytes(2).readUInt16BE(0)).padStart(5, "0");
      return send({
        type: "message",
        source: { type: "user", userId },
        replyToken: options.issueReplyToken({ userId }),
        message: { type: "text", id, text, quoteToken: randomBytes(16).toString("base64url") },
      });
    },
  };
}

export type LineWebhookSender = ReturnType<typeof createLineWebhookSender>;
