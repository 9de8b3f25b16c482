import { Hono } from "hono";
import { HttpError } from "../http/http-error.js";
import { requireAppAccess } from "../http/principal.js";
import type { RelayStore } from "../store/relay-store.js";

/**
 * LINE IDs are shown to kintone users shortened: enough to tell them apart, not to reuse them.
 * A kintone user who could not be reached (`kintone:<login name>`, state not_linked) is shown as
 * is: the app's users know each other's login names, and the admin must know whom to ask to connect.
 */
export const maskLineId = (id: string) => (id.startsWith("kintone:") ? id : id.length > 12 ? `${id.slice(0, 5)}…${id.slice(-4)}` : id);

/**
 * `GET /v1/records/:appId/:recordId/deliveries` (bearer auth by the app): what the relay sent for
 * one record and who acknowledged it, for the plugin's record panel. Recipients nothing was sent
 * to (invalid, blocked, not linked) are listed under the notification's first delivery of their
 * rule, or as a delivery-less entry when their rule sent nothing at all.
 */
export function recordDeliveriesRoute(deps: { store: RelayStore }) {
  return new Hono().get("/:appId/:recordId/deliveries", async (c) => {
    const { appId, recordId } = c.req.param();
    if (!/^[1-9][0-9]{0,17}$/.test(appId) || !/^[1-9][0-9]{0,17}$/.test(recordId)) {
      throw new HttpError(400, "invalid_request", "appId and recordId must be positive whole numbers");
    }
    requireAppAccess(c, appId);
    const deliveries = await deps.store.listRecordDeliveries(appId, recordId);
    const outcomes = new Map<string, Awaited<ReturnType<RelayStore["listRecipientOutcomes"]>>>();
    for (const delivery of deliveries) {
      if (!outcomes.has(delivery.notificationId)) {
        outcomes.set(delivery.notificationId, await deps.store.listRecipientOutcomes(delivery.notificationId));
      }
    }
    // Which stored rule-set version each notification used.
    const rulesVersions = new Map<string, number | null>();
    for (const delivery of deliveries) {
      if (!rulesVersions.has(delivery.notificationId)) {
        rulesVersions.set(delivery.notificationId, (await deps.store.getNotification(delivery.notificationId))?.rulesVersion ?? null);
      }
    }
    const acks = await deps.store.listAcknowledgements(deliveries.map((d) => d.id));
    // Recipients nothing was sent to have no delivery: shown with the first delivery of their rule.
    const firstOfRule = new Map<string, string>();
    for (const delivery of deliveries) {
      const key = `${delivery.notificationId}/${delivery.ruleId}`;
      if (!firstOfRule.has(key)) firstOfRule.set(key, delivery.id);
    }
    const labels = new Map<string, string>();
    for (const delivery of deliveries) {
      const buttons = JSON.parse(delivery.buttons) as Array<{ id?: string; label?: string }>;
      for (const button of buttons) labels.set(`${delivery.id}/${button.id}`, button.label ?? "");
    }
    return c.json({
      deliveries: deliveries.map((delivery) => ({
        id: delivery.id,
        ruleId: delivery.ruleId,
        ruleName: delivery.ruleName,
        rulesVersion: rulesVersions.get(delivery.notificationId) ?? null,
        createdAt: new Date(delivery.createdAt).toISOString(),
        state: delivery.state,
        detail: delivery.detail,
        recipients: (outcomes.get(delivery.notificationId) ?? [])
          .filter(
            (outcome) =>
              outcome.deliveryId === delivery.id ||
              (outcome.deliveryId === null && outcome.ruleId === delivery.ruleId && firstOfRule.get(`${delivery.notificationId}/${delivery.ruleId}`) === delivery.id),
          )
          .map((outcome) => ({
            id: maskLineId(outcome.recipientId),
            state: outcome.state,
            // Why nothing was sent (not linked, must connect again, blocked, not a LINE ID).
            ...(outcome.deliveryId === null && outcome.detail ? { detail: outcome.detail } : {}),
          })),
        acknowledgements: acks
          .filter((ack) => ack.deliveryId === delivery.id)
          .map((ack) => ({
            recipient: maskLineId(ack.userId),
            displayName: ack.displayName,
            buttonId: ack.buttonId,
            buttonLabel: labels.get(`${delivery.id}/${ack.buttonId}`) ?? ack.buttonId,
            at: new Date(ack.tappedAt).toISOString(),
            state: ack.state,
          })),
      })),
    });
  });
}
