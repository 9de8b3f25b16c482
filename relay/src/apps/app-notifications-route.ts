import { Hono } from "hono";
import { z } from "zod";
import { HttpError } from "../http/http-error.js";
import { maskLineId } from "../notifications/record-deliveries-route.js";
import type { AcknowledgementRow, DeliveryRow, NotificationRow, RelayStore } from "../store/relay-store.js";
import { appIdOfPath } from "./app-path.js";

const Query = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) });

/** Only the rules' ids and names: enough to name a rule that notified nobody through a delivery. */
const RuleNames = z.object({ rules: z.array(z.object({ id: z.string(), name: z.string().optional() })) });

function ruleNamesOf(notification: NotificationRow): Map<string, string> {
  const names = new Map<string, string>();
  try {
    const parsed = RuleNames.safeParse(JSON.parse(notification.rules));
    if (parsed.success) for (const rule of parsed.data.rules) names.set(rule.id, rule.name ?? "");
  } catch {
    // The stored rule set is what the relay accepted; unreadable here, the rules go unnamed.
  }
  return names;
}

function buttonLabels(deliveries: DeliveryRow[]): Map<string, string> {
  const labels = new Map<string, string>();
  for (const delivery of deliveries) {
    try {
      const buttons = JSON.parse(delivery.buttons) as Array<{ id?: string; label?: string }>;
      for (const button of buttons) if (button.id) labels.set(`${delivery.id}/${button.id}`, button.label ?? button.id);
    } catch {
      // Buttons are written by the relay itself; a broken row only loses its labels.
    }
  }
  return labels;
}

/**
 * `GET /v1/apps/{appId}/notifications?limit=50` (the app's key, or the master secret): the app's
 * newest notifications, newest first, for the settings page's Deliveries tab. Each with its record,
 * the rule(s) that notified, its state and detail, the stored rule-set version, and per recipient
 * (LINE IDs shortened, as the record panel shows them) the outcome and LINE's message when it failed,
 * and the acknowledgements: who, which button, when.
 */
export function appNotificationsRoute(deps: { store: RelayStore }) {
  return new Hono().get("/:appId/notifications", async (c) => {
    const appId = appIdOfPath(c);
    const query = Query.safeParse(c.req.query());
    if (!query.success) throw new HttpError(400, "invalid_request", "limit must be a whole number from 1 to 100");
    const notifications = await deps.store.listAppNotifications(appId, query.data.limit);

    const outcomes = new Map(await Promise.all(notifications.map(async (n) => [n.id, await deps.store.listRecipientOutcomes(n.id)] as const)));
    const deliveryIds = [...new Set([...outcomes.values()].flat().flatMap((o) => (o.deliveryId ? [o.deliveryId] : [])))];
    const deliveries = (await Promise.all(deliveryIds.map((id) => deps.store.getDelivery(id)))).filter((d): d is DeliveryRow => d !== undefined);
    const acks = await deps.store.listAcknowledgements(deliveryIds);
    const acksByDelivery = new Map<string, AcknowledgementRow[]>();
    for (const ack of acks) acksByDelivery.set(ack.deliveryId, [...(acksByDelivery.get(ack.deliveryId) ?? []), ack]);
    const labels = buttonLabels(deliveries);

    return c.json({
      appId,
      notifications: notifications.map((notification) => {
        const recipients = outcomes.get(notification.id) ?? [];
        const names = ruleNamesOf(notification);
        const ruleIds = [...new Set([...(notification.ruleId ? [notification.ruleId] : []), ...recipients.map((r) => r.ruleId)])];
        const own = [...new Set(recipients.flatMap((r) => (r.deliveryId ? [r.deliveryId] : [])))];
        return {
          id: notification.id,
          recordId: notification.recordId,
          source: notification.source,
          action: notification.action,
          status: notification.status,
          nextStatus: notification.nextStatus,
          state: notification.state,
          detail: notification.detail,
          createdAt: new Date(notification.createdAt).toISOString(),
          rulesVersion: notification.rulesVersion,
          rules: ruleIds.map((id) => ({
            id,
            name: deliveries.find((d) => d.notificationId === notification.id && d.ruleId === id)?.ruleName ?? names.get(id) ?? "",
          })),
          recipients: recipients.map((r) => ({
            id: maskLineId(r.recipientId),
            ruleId: r.ruleId,
            state: r.state,
            detail: r.detail,
          })),
          acknowledgements: own.flatMap((deliveryId) =>
            (acksByDelivery.get(deliveryId) ?? []).map((ack) => ({
              recipient: maskLineId(ack.userId),
              displayName: ack.displayName,
              buttonId: ack.buttonId,
              buttonLabel: labels.get(`${deliveryId}/${ack.buttonId}`) ?? ack.buttonId,
              at: new Date(ack.tappedAt).toISOString(),
              state: ack.state,
            })),
          ),
        };
      }),
    });
  });
}
