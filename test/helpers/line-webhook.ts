import { createHmac, randomBytes } from "node:crypto";

/** Builds LINE webhook bodies and signs them as the LINE Platform does. */
export function signBody(body: string, channelSecret: string): string {
  return createHmac("sha256", channelSecret).update(body).digest("base64");
}

let counter = 0;
/** A ULID-shaped webhookEventId. */
export function newEventId(): string {
  counter++;
  return `01J${Date.now().toString(32).toUpperCase().padStart(10, "0")}${randomBytes(7).toString("hex").toUpperCase()}`.slice(0, 26) + counter;
}

export interface EventOptions {
  userId: string;
  groupId?: string;
  replyToken?: string;
  timestamp?: number;
  webhookEventId?: string;
  isRedelivery?: boolean;
}

function base(type: string, options: EventOptions) {
  return {
    type,
    mode: "active",
    timestamp: options.timestamp ?? Date.now(),
    source: options.groupId
      ? { type: "group", groupId: options.groupId, userId: options.userId }
      : { type: "user", userId: options.userId },
    webhookEventId: options.webhookEventId ?? newEventId(),
    deliveryContext: { isRedelivery: options.isRedelivery ?? false },
  };
}

export const postbackEvent = (data: string, options: EventOptions) => ({
  ...base("postback", options),
  replyToken: options.replyToken,
  postback: { data },
});

export const textEvent = (text: string, options: EventOptions) => ({
  ...base("message", options),
  replyToken: options.replyToken,
  message: { type: "text", id: String(Date.now()), text, quoteToken: "q" + Date.now() },
});

export const followEvent = (options: EventOptions) => ({ ...base("follow", options), replyToken: options.replyToken, follow: { isUnblocked: false } });
export const unfollowEvent = (options: EventOptions) => base("unfollow", options);

export function webhookBody(events: unknown[], destination = "U" + "f".repeat(32)): string {
  return JSON.stringify({ destination, events });
}

/** POSTs a body to the relay's webhook with a correct signature (or the one given). */
export function postWebhook(relayUrl: string, body: string, channelSecret: string, signature?: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const sig = signature === undefined ? signBody(body, channelSecret) : signature;
  if (sig !== null) headers["x-line-signature"] = sig;
  return fetch(`${relayUrl}/line/webhook`, { method: "POST", headers, body });
}
