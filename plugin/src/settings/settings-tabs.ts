/**
 * The settings page in two tabs (kintone UI Component's Tabs): 「ルール」/"Rules" holds what the
 * page always had below the relay connection; 「配信状況」/"Deliveries" what the relay sent
 * (deliveries-tab.ts), loaded each time it is opened. The connection stays above both: the
 * Deliveries tab reads the relay with the URL and key shown there.
 */
import { Tabs } from "kintone-ui-component/lib/tabs";
import { deliveriesTabMessages } from "./deliveries-tab-messages";
import { type DeliveriesTabDeps, renderDeliveriesTab } from "./deliveries-tab";

export function mountSettingsTabs(root: HTMLElement, after: HTMLElement, deps: DeliveriesTabDeps): Tabs {
  const m = deliveriesTabMessages(deps.language);
  const rules = document.createElement("div");
  rules.className = "kline-tab-rules";
  while (after.nextSibling) rules.append(after.nextSibling);
  const deliveries = renderDeliveriesTab(deps);
  const tabs = new Tabs({
    className: "kline-tabs",
    value: "rules",
    items: [
      { label: m.tabRules, value: "rules", content: rules },
      { label: m.tabDeliveries, value: "deliveries", content: deliveries.section },
    ],
  });
  tabs.addEventListener("change", (event) => {
    if ((event as CustomEvent<{ value?: string }>).detail.value === "deliveries") void deliveries.refresh();
  });
  after.after(tabs);
  return tabs;
}
