import type { webhook } from "@line/bot-sdk";
import { z } from "zod";

/**
 * The LINE webhook events the relay acts on, parsed once per event in the worker. Each schema is
 * checked at compile time against `@line/bot-sdk`'s `webhook.*` type (LINE's webhook.yml), so a
 * drift between this parser and LINE's types does not compile. Properties we do not read are
 * stripped; properties LINE's types require and we read are required here too.
 *
 * One deliberate difference: `replyToken` is optional on every event, also on follow and join where
 * the SDK requires it, because an event in `standby` mode carries none
 * (https://developers.line.biz/en/reference/messaging-api/#common-properties, "mode").
 */

/** A key that must not be there: a user source names no group, so `source.groupId` is only ever a group's. */
const absent = z.never().optional();

const userSource = z.object({ type: z.literal("user"), userId: z.string().optional(), groupId: absent, roomId: absent });
const groupSource = z.object({ type: z.literal("group"), groupId: z.string(), userId: z.string().optional(), roomId: absent });
const roomSource = z.object({ type: z.literal("room"), roomId: z.string(), userId: z.string().optional(), groupId: absent });
const source = z.discriminatedUnion("type", [userSource, groupSource, roomSource]) satisfies z.ZodType<webhook.Source>;

/** EventBase: what every event has. */
const base = {
  timestamp: z.number(),
  webhookEventId: z.string(),
  mode: z.enum(["active", "standby"]) satisfies z.ZodType<webhook.EventMode>,
  source: source.optional(),
  deliveryContext: z.object({ isRedelivery: z.boolean() }) satisfies z.ZodType<webhook.DeliveryContext>,
};
const replyToken = z.string().optional();

/** The SDK's event type with `replyToken` optional (standby mode, above). */
type MaybeStandby<E extends { replyToken?: string }> = Omit<E, "replyToken"> & { replyToken?: string };

export const postbackEventSchema = z.object({
  ...base,
  type: z.literal("postback"),
  replyToken,
  postback: z.object({ data: z.string(), params: z.record(z.string(), z.string()).optional() }),
}) satisfies z.ZodType<webhook.PostbackEvent>;

export const followEventSchema = z.object({
  ...base,
  type: z.literal("follow"),
  replyToken,
  follow: z.object({ isUnblocked: z.boolean() }),
}) satisfies z.ZodType<MaybeStandby<webhook.FollowEvent>>;

export const unfollowEventSchema = z.object({ ...base, type: z.literal("unfollow") }) satisfies z.ZodType<webhook.UnfollowEvent>;

export const joinEventSchema = z.object({ ...base, type: z.literal("join"), replyToken }) satisfies z.ZodType<MaybeStandby<webhook.JoinEvent>>;

export const leaveEventSchema = z.object({ ...base, type: z.literal("leave") }) satisfies z.ZodType<webhook.LeaveEvent>;

const textMessageContent = z.object({
  type: z.literal("text"),
  id: z.string(),
  text: z.string(),
  quoteToken: z.string(),
  markAsReadToken: z.string().optional(),
}) satisfies z.ZodType<webhook.TextMessageContent>;

/** The other message types LINE sends; the relay reads only their type. */
type NonTextMessageType = Exclude<webhook.MessageContent["type"], "text">;
const NON_TEXT_MESSAGE_TYPES = ["image", "video", "audio", "file", "location", "sticker"] as const satisfies readonly NonTextMessageType[];
// Every message type in LINE's types is parsed: a new one in the SDK is a compile error here.
type UnparsedMessageType = Exclude<NonTextMessageType, (typeof NON_TEXT_MESSAGE_TYPES)[number]>;
const allMessageTypesParsed: [UnparsedMessageType] extends [never] ? true : UnparsedMessageType = true;
void allMessageTypesParsed;
const otherMessageContent = z.object({ type: z.enum(NON_TEXT_MESSAGE_TYPES), id: z.string() });

export const messageEventSchema = z.object({
  ...base,
  type: z.literal("message"),
  replyToken,
  message: z.discriminatedUnion("type", [textMessageContent, otherMessageContent]),
}) satisfies z.ZodType<
  Omit<webhook.MessageEvent, "message"> & {
    message: webhook.TextMessageContent | Pick<Exclude<webhook.MessageContent, webhook.TextMessageContent>, "type" | "id">;
  }
>;

/**
 * LINE's account-link outcome (https://developers.line.biz/en/reference/messaging-api/#account-link-event):
 * `link.nonce` is the nonce the relay put in the account-link URL; a failed link carries no reply token.
 */
export const accountLinkEventSchema = z.object({
  ...base,
  type: z.literal("accountLink"),
  replyToken,
  link: z.object({ result: z.enum(["ok", "failed"]) satisfies z.ZodType<webhook.LinkContent.ResultEnum>, nonce: z.string() }),
}) satisfies z.ZodType<webhook.AccountLinkEvent>;

export type PostbackEvent = z.infer<typeof postbackEventSchema>;
export type MessageEvent = z.infer<typeof messageEventSchema>;
export type AccountLinkEvent = z.infer<typeof accountLinkEventSchema>;
export type EventSource = z.infer<typeof source>;
