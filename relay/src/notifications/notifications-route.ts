import { Hono } from "hono";
import type { Clock } from "../clock.js";
import { readJsonBody } from "../http/read-json-body.js";
import type { Logger } from "../logger.js";
import type { RelayStore } from "../store/relay-store.js";
import { parseNotificationRequest } from "./notification-request.js";

export const NOTIFICATION_BODY_LIMIT = 64 * 1024;

/**
 * `POST /v1/notifications` (bearer auth is applied by the app): validate, commit the job, answer
 * 202 {id}. No kintone or LINE call happens here; the worker is woken instead.
 */
export function notificationsRoute(deps: { store: RelayStore; clock: Clock; logger: Logger; onEnqueued: () => void }) {
  return new Hono().post("/", async (c) => {
    const { json } = await readJsonBody(c, NOTIFICATION_BODY_LIMIT);
    const { input, dedupKey } = parseNotificationRequest(json);
    const { id, duplicate } = await deps.store.enqueueNotification(input, dedupKey, deps.clock.now());
    deps.logger.info(duplicate ? "notification already pending" : "notification accepted", {
      notification: id,
      app: input.appId,
      record: input.recordId,
      action: input.action,
    });
    if (!duplicate) deps.onEnqueued();
    return c.json({ id }, 202);
  });
}
