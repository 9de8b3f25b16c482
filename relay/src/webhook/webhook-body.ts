import { z } from "zod";

/**
 * What the endpoint checks before committing: the envelope and the fields every event has.
 * Each event type's own fields are parsed in the worker (webhook/event-schemas.ts).
 */
const source = z.looseObject({
  type: z.enum(["user", "group", "room"]),
  userId: z.string().optional(),
  groupId: z.string().optional(),
  roomId: z.string().optional(),
});

const event = z.looseObject({
  type: z.string().min(1),
  timestamp: z.number().int().nonnegative(),
  webhookEventId: z.string().min(1).max(64),
  mode: z.string().optional(),
  source: source.optional(),
  deliveryContext: z.looseObject({ isRedelivery: z.boolean() }),
});

export const webhookBodySchema = z.looseObject({
  destination: z.string().min(1),
  events: z.array(event),
});

export type WebhookEnvelopeEvent = z.infer<typeof event>;

export function sourceKeyOf(event: WebhookEnvelopeEvent): string {
  const s = event.source;
  return s?.userId ?? s?.groupId ?? s?.roomId ?? "unknown";
}
