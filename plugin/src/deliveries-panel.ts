/** The record page panel: this record's LINE deliveries and who acknowledged them, and when. */
import { formatTime, h } from "./dom";
import type { RecordMessages } from "./record-messages";
import type { Delivery } from "./relay-client";
import { describeRelayFailure } from "./relay-failure";

export function renderDeliveries(
  list: HTMLElement,
  deliveries: Delivery[],
  messages: RecordMessages,
  language: string,
): void {
  list.replaceChildren();
  if (deliveries.length === 0) {
    list.append(h("p", { class: "kline-empty" }, messages.panelEmpty));
    return;
  }
  for (const delivery of deliveries) {
    const recipients = h("ul", { class: "kline-recipients" });
    for (const r of delivery.recipients) {
      const state = messages.recipientState[r.state] ?? r.state;
      recipients.append(
        h("li", { class: `kline-recipient kline-state-${r.state}`, "data-state": r.state },
          `${r.displayName ? `${r.displayName} (${r.id})` : r.id}: ${state}`),
      );
    }
    const acks = h("ul", { class: "kline-acks" });
    for (const ack of delivery.acknowledgements) {
      acks.append(
        h("li", { class: "kline-ack" },
          `✔ ${ack.displayName ?? ack.recipient} — ${ack.buttonLabel ?? ack.buttonId} (${messages.acknowledged}) ${formatTime(ack.at, language)}`),
      );
    }
    list.append(
      h("div", { class: "kline-delivery", "data-delivery-id": delivery.id, "data-state": delivery.state },
        h("div", { class: "kline-delivery-head" },
          h("strong", {}, delivery.ruleName ?? delivery.ruleId), ` · ${formatTime(delivery.createdAt, language)} · ${messages.deliveryState[delivery.state] ?? delivery.state}`),
        recipients,
        delivery.acknowledgements.length > 0 ? acks : null),
    );
  }
}

const isPending = (deliveries: Delivery[]): boolean =>
  deliveries.some((d) => d.state === "pending" || d.recipients.some((r) => r.state === "pending"));

export interface PanelOptions {
  /** Keep re-reading (every `pollMs`, at most `maxPolls` times) while this says so, e.g. just after an action notified. */
  keepPolling?: (deliveries: Delivery[]) => boolean;
  pollMs?: number;
  maxPolls?: number;
}

/**
 * Builds the panel; `load` is called now and on each refresh. While a delivery is pending (or
 * `keepPolling` says so) it re-reads a few times by itself, so that a fresh send shows up
 * without a click; after that, Refresh.
 */
export function createDeliveriesPanel(
  load: () => Promise<Delivery[]>,
  messages: RecordMessages,
  language: string,
  options: PanelOptions = {},
): HTMLElement {
  const { pollMs = 1500, maxPolls = 12 } = options;
  let polls = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const list = h("div", { class: "kline-list" });
  const refresh = h("button", { type: "button", class: "kline-refresh" }, messages.refresh);
  const panel = h("section", { class: "kline-panel" },
    h("div", { class: "kline-panel-head" }, h("span", { class: "kline-panel-title" }, messages.panelTitle), refresh),
    list);
  const update = (): void => {
    clearTimeout(timer);
    refresh.disabled = true;
    load()
      .then((deliveries) => {
        renderDeliveries(list, deliveries, messages, language);
        const more = isPending(deliveries) || (options.keepPolling?.(deliveries) ?? false);
        if (more && polls < maxPolls && panel.isConnected) {
          polls++;
          timer = setTimeout(update, pollMs);
        }
      })
      .catch((error: unknown) => {
        list.replaceChildren(h("p", { class: "kline-error" }, messages.panelError(describeRelayFailure(error, messages))));
      })
      .finally(() => {
        refresh.disabled = false;
      });
  };
  refresh.addEventListener("click", () => {
    polls = 0;
    update();
  });
  update();
  return panel;
}
