import type { RelayStore } from "../store/relay-store.js";
import type { MetricsHooks } from "./metrics-hooks.js";

/**
 * The store as the webhook route sees it: each committed batch's events are counted by type
 * (relay_webhook_events_total), redeliveries included, once the commit succeeded.
 */
export function countWebhookEvents(store: RelayStore, metrics: Pick<MetricsHooks, "webhookEvent">): RelayStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "storeWebhookEvents") {
        const storeWebhookEvents: RelayStore["storeWebhookEvents"] = async (events, now) => {
          const result = await target.storeWebhookEvents(events, now);
          for (const event of events) metrics.webhookEvent(event.type);
          return result;
        };
        return storeWebhookEvents;
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
