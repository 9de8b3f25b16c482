import { z } from "zod";

/** The parts of each LINE webhook event the relay acts on (webhook.yml), parsed once per event. */
const source = z.looseObject({
  type: z.enum(["user", "group", "room"]),
  userId: z.string().optional(),
  groupId: z.string().optional(),
  roomId: z.string().optional(),
});

const base = {
  timestamp: z.number(),
  webhookEventId: z.string(),
  mode: z.string().optional(),
  source: source.optional(),
};

export const postbackEventSchema = z.looseObject({
  ...base,
  type: z.literal("postback"),
  replyToken: z.string().optional(),
  postback: z.looseObject({ data: z.string() }),
});

export const followEventSchema = z.looseObject({ ...base, type: z.literal("follow"), replyToken: z.string().optional() });
export const unfollowEventSchema = z.looseObject({ ...base, type: z.literal("unfollow") });
export const joinEventSchema = z.looseObject({ ...base, type: z.literal("join"), replyToken: z.string().optional() });
export const leaveEventSchema = z.looseObject({ ...base, type: z.literal("leave") });
export const messageEventSchema = z.looseObject({
  ...base,
  type: z.literal("message"),
  replyToken: z.string().optional(),
  message: z.looseObject({ type: z.string(), text: z.string().optional() }),
});

export type PostbackEvent = z.infer<typeof postbackEventSchema>;
export type MessageEvent = z.infer<typeof messageEventSchema>;
export type EventSource = z.infer<typeof source>;
