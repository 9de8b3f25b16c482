import { Hono } from "hono";
import type { Clock } from "../clock.js";
import { admitBodyWithin } from "../http/body-budget.js";
import { HttpError } from "../http/http-error.js";
import { readBodyWithin } from "../http/read-body-within.js";
import type { Logger } from "../logger.js";
import type { InboundEvent, RelayStore } from "../store/relay-store.js";
import { createInboxBatcher } from "./inbox-batcher.js";
import { isValidLineSignature } from "./verify-signature.js";
import { sourceKeyOf, webhookBodySchema } from "./webhook-body.js";

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const utf8 = new TextDecoder();

/**
 * Anyone can open the webhook: the bytes of all webhook bodies in flight share 48 MB (a 1 MB
 * body may be read by ~32 at once), of which 16 MB stay for bodies up to 64 KB, which is what
 * LINE sends, so its webhooks are admitted while large slow bodies hold the rest.
 */
export const WEBHOOK_BODY_BUDGET = {
  totalBytes: 48 * 1024 * 1024,
  smallBodyBytes: 64 * 1024,
  reservedForSmallBytes: 16 * 1024 * 1024,
  unknownLengthBytes: WEBHOOK_BODY_LIMIT,
};

/**
 * `POST /line/webhook`: signature over the raw bytes first, then the envelope, then one commit
 * of every new event, then 200. No LINE or kintone call happens before the answer.
 */
export function webhookRoute(deps: { channelSecret: string; store: RelayStore; clock: Clock; logger: Logger; onStored: () => void }) {
  const inbox = createInboxBatcher(deps.store, deps.clock.now);
  return new Hono().post("/", admitBodyWithin(WEBHOOK_BODY_BUDGET), async (c) => {
    const raw = await readBodyWithin(c, WEBHOOK_BODY_LIMIT);
    if (!isValidLineSignature(deps.channelSecret, raw, c.req.header("x-line-signature"))) {
      deps.logger.warn("webhook refused: missing or wrong x-line-signature", { bytes: raw.byteLength });
      throw new HttpError(401, "bad_signature", "missing or wrong x-line-signature");
    }
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(raw));
    } catch (error) {
      throw new HttpError(400, "invalid_json", `webhook body is not JSON: ${(error as Error).message}`);
    }
    const body = webhookBodySchema.safeParse(json);
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new HttpError(400, "invalid_webhook", `not a LINE webhook body: ${issue?.path.join(".") || "(body)"}: ${issue?.message}`);
    }
    if (body.data.events.length > 0) {
      const events: InboundEvent[] = body.data.events.map((event) => ({
        eventId: event.webhookEventId,
        type: event.type,
        sourceKey: sourceKeyOf(event),
        timestamp: event.timestamp,
        redelivery: event.deliveryContext.isRedelivery,
        body: JSON.stringify(event),
      }));
      const stored = await inbox.add(events);
      if (stored > 0) deps.onStored();
    }
    return c.json({});
  });
}
