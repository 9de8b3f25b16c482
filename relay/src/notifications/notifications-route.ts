import { Hono } from "hono";
import { canonicalRules } from "../apps/rules-body.js";
import type { Clock } from "../clock.js";
import { limitBody } from "../http/body-limit.js";
import { requireAppAccess } from "../http/principal.js";
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
  return new Hono().post("/", limitBody(NOTIFICATION_BODY_LIMIT), async (c) => {
    const { json } = await readJsonBody(c);
    const { input, dedupKey } = parseNotificationRequest(json);
    // The app whose record and rule set this is: an app key's own, else 403 and nothing stored.
    requireAppAccess(c, input.appId);
    const { id, duplicate } = await deps.store.enqueueNotification(input, dedupKey, deps.clock.now());
    deps.logger.info(duplicate ? "notification already pending" : "notification accepted", {
      notification: id,
      app: input.appId,
      record: input.recordId,
      action: input.action,
    });
    if (!duplicate) deps.onEnqueued();
    // The rule set kintone injected is the app's current one: keep the relay's copy in step (a
    // write only when its content differs). Its own transaction: the RelayStore has no shared
    // one, and a miss here costs nothing the next record action does not repair.
    try {
      await deps.store.saveAppRules(input.appId, canonicalRules(input.rules), deps.clock.now());
    } catch (error) {
      deps.logger.warn("could not keep the app's rule set current", { app: input.appId, error: String(error) });
    }
    return c.json({ id }, 202);
  });
}
