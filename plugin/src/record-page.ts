/** Wires a record page (desktop or mobile) to the plugin's behaviour; the entries only pick the host. */
import { createDeliveriesPanel } from "./deliveries-panel";
import { showNotice } from "./dom";
import type { RecordPageHost } from "./host";
import { createLinkCodeButton } from "./link-code";
import { parsePluginConfig } from "./plugin-config";
import { handleProcessProceed } from "./process-proceed";
import { recordMessages } from "./record-messages";
import { RelayClient } from "./relay-client";

/** How long an action waits for the relay before it goes on (or is refused, for blocking rules). */
export const NOTIFY_TIMEOUT_MS = 5000;

export function startRecordPage(host: RecordPageHost): void {
  const parsed = parsePluginConfig(host.getConfig());
  if (!parsed.ok) {
    if (parsed.reason !== "not configured") console.warn(`LINE notifications: plugin config ignored: ${parsed.reason}`);
    return;
  }
  const { config } = parsed;
  const messages = recordMessages(host.language);
  const relay = new RelayClient(host.proxy, config.relayUrl, NOTIFY_TIMEOUT_MS);

  // After this page asked for a notification, the panel re-reads until the new delivery shows.
  let knownDeliveries = 0;
  let expect: { count: number; until: number } | null = null;

  host.onProcessProceed((event) =>
    handleProcessProceed(event, {
      config,
      notify: async (request) => {
        const id = await relay.notify(request);
        expect = { count: knownDeliveries, until: Date.now() + 20_000 };
        return id;
      },
      showNotice,
      messages,
      timeZone: host.timeZone,
      appId: host.appId,
    }),
  );

  const linkFields = [...new Set(config.ruleSet.rules.flatMap((rule) => rule.recipients.fields))];
  host.onRecordShow((event) => {
    const space = host.headerSpace();
    const appId = String(event.appId ?? host.appId() ?? "");
    const recordId = String(event.recordId ?? event.record.$id?.value ?? "");
    if (!space || !recordId) return event;
    space.querySelector(".kline-root")?.remove();
    const root = document.createElement("div");
    root.className = `kline-root${host.mobile ? " kline-mobile" : ""}`;
    if (linkFields.length > 0) {
      root.append(
        createLinkCodeButton(linkFields, (field) => relay.createLinkCode(appId, recordId, field), messages, host.language),
      );
    }
    const load = async () => {
      const deliveries = await relay.listDeliveries(appId, recordId);
      knownDeliveries = deliveries.length;
      return deliveries;
    };
    const keepPolling = (): boolean => expect !== null && Date.now() < expect.until && knownDeliveries <= expect.count;
    root.append(createDeliveriesPanel(load, messages, host.language, { keepPolling }));
    space.append(root);
    return event;
  });
}
