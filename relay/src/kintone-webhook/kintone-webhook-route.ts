import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Clock } from "../clock.js";
import { limitBody } from "../http/body-limit.js";
import { HttpError } from "../http/http-error.js";
import type { Logger } from "../logger.js";
import type { KintoneWebhookReceipt, NotificationInput, RelayStore } from "../store/relay-store.js";
import { kintoneWebhookEnvelopeSchema, readRecordHint } from "./kintone-webhook-body.js";

export const KINTONE_WEBHOOK_BODY_LIMIT = 1024 * 1024;

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Compares in time that does not depend on where the strings differ (hashes: equal lengths). */
export function isWebhookToken(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * `POST /kintone/webhook/{KINTONE_WEBHOOK_TOKEN}`: kintone's webhook. A wrong token is a 404, as
 * for any unknown path, before the body is read; nothing is stored. A right one: the notification
 * is committed (de-duplicated on kintone's `id`) and answered 200 at once; an UPDATE_STATUS
 * starts a notification of the app's stored rule set in the same transaction, and the worker
 * confirms and notifies as for the plugin's request. Other types are stored and ignored.
 */
export function kintoneWebhookRoute(deps: { token: string; store: RelayStore; clock: Clock; logger: Logger; onEnqueued: () => void }) {
  const notFound = (path: string) => new HttpError(404, "not_found", `no route for POST ${path}`);
  return new Hono().post(
    "/:token",
    async (c, next) => {
      if (!isWebhookToken(deps.token, c.req.param("token"))) {
        deps.logger.warn("kintone webhook refused: wrong token in the path");
        throw notFound("/kintone/webhook/…");
      }
      await next();
    },
    limitBody(KINTONE_WEBHOOK_BODY_LIMIT),
    async (c) => {
      let json: unknown;
      try {
        json = JSON.parse(await c.req.text());
      } catch (error) {
        throw new HttpError(400, "invalid_json", `kintone webhook body is not JSON: ${(error as Error).message}`);
      }
      const envelope = kintoneWebhookEnvelopeSchema.safeParse(json);
      if (!envelope.success) {
        const issue = envelope.error.issues[0];
        throw new HttpError(400, "invalid_webhook", `not a kintone webhook body: ${issue?.path.join(".") || "(body)"}: ${issue?.message}`);
      }
      const { id, type, app } = envelope.data;
      const hint = readRecordHint(json);
      const now = deps.clock.now();
      // Every record-carrying webhook tells the status the record had at a revision: kept so a
      // later status webhook can judge "from".
      if (hint?.status !== undefined) await deps.store.recordStatusSeen(app.id, hint.recordId, hint.revision, hint.status, now);

      const receipt: KintoneWebhookReceipt = { id, type, appId: app.id, recordId: hint?.recordId ?? null, body: JSON.stringify(json), outcome: "" };
      let notification: { input: NotificationInput; dedupKey: string } | undefined;
      if (type !== "UPDATE_STATUS") {
        receipt.outcome = `ignored: ${type} starts no notification`;
      } else if (!hint?.status) {
        receipt.outcome = "ignored: the body carries no record with $id, $revision and a status";
      } else {
        const stored = await deps.store.getAppRules(app.id);
        if (!stored) {
          receipt.outcome = `ignored: no rule set stored for app ${app.id} (the settings page stores it on save)`;
        } else {
          receipt.outcome = "notification";
          notification = {
            input: {
              appId: app.id,
              recordId: hint.recordId,
              action: "",
              status: "",
              nextStatus: hint.status,
              rules: stored.rules,
              source: "kintone-webhook",
              rulesVersion: stored.version,
            },
            dedupKey: `kintone-webhook:${app.id}:${hint.recordId}:${hint.revision}`,
          };
        }
      }
      const result = await deps.store.storeKintoneWebhook(receipt, now, notification);
      deps.logger.info(result.duplicate ? "kintone webhook already received" : "kintone webhook received", {
        id,
        type,
        app: app.id,
        record: hint?.recordId,
        outcome: result.duplicate ? "duplicate" : receipt.outcome,
        notification: result.notificationId,
      });
      if (result.notificationId) deps.onEnqueued();
      return c.json({});
    },
  );
}
