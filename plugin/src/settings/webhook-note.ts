/**
 * The kintone webhook note on the settings page: why a webhook helps, the URL to paste in kintone
 * (the relay URL + /kintone/webhook/<KINTONE_WEBHOOK_TOKEN>), which notification triggers to tick,
 * what kintone sends none for, and which of the rules on screen it can serve.
 *
 * The token is the relay operator's secret: the input only builds the URL for copying. It is not
 * saved (getConfig is readable by every user of the app), not put in the proxy config, and not
 * sent anywhere. Steps and limits follow kintone's help
 * (https://jp.cybozu.help/k/ja/user/app_settings/set_webhook/webhook.html) and docs/kintone-webhook.md.
 */
import { normalizeRelayUrl } from "../plugin-config";
import type { Rule } from "../../../common/rules/rule-set";
import { browserOnlyReason } from "./trigger-editor";
import { triggerMessages } from "./trigger-messages";

export const WEBHOOK_TOKEN_PLACEHOLDER = "<KINTONE_WEBHOOK_TOKEN>";

/** The URL kintone's webhook posts to; the placeholder stands for a token not typed. */
export function kintoneWebhookUrl(relayUrl: string, token: string): string {
  const trimmed = token.trim();
  return `${normalizeRelayUrl(relayUrl)}/kintone/webhook/${trimmed === "" ? WEBHOOK_TOKEN_PLACEHOLDER : encodeURIComponent(trimmed)}`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export interface WebhookNote {
  section: HTMLElement;
  /** Redraws the URL (the relay URL may have changed) and which rules the webhook serves. */
  update(relayUrl: string, rules: readonly Rule[]): void;
}

export function renderWebhookNote(language: string): WebhookNote {
  const t = triggerMessages(language);
  const section = el("section", "kline-section kline-webhook-note");
  section.append(el("h2", "kline-section-heading", t.webhookTitle), el("p", "kline-intro", t.webhookIntro));

  const tokenLabel = el("label", "kline-label", t.webhookToken);
  const token = el("input", "kline-webhook-token");
  token.id = "kline-webhook-token";
  tokenLabel.htmlFor = token.id;
  // Never remembered by the browser either; nothing reads it but the URL below.
  token.type = "password";
  token.autocomplete = "off";
  token.spellcheck = false;
  token.placeholder = WEBHOOK_TOKEN_PLACEHOLDER;
  Object.assign(token.style, { width: "min(100%, 420px)", padding: "6px 8px", boxSizing: "border-box" });

  const urlLabel = el("label", "kline-label", t.webhookUrl);
  const url = el("input", "kline-webhook-url");
  url.id = "kline-webhook-url";
  urlLabel.htmlFor = url.id;
  url.readOnly = true;
  Object.assign(url.style, { width: "min(100%, 640px)", padding: "6px 8px", boxSizing: "border-box" });
  const copy = el("button", "kline-webhook-copy", t.webhookCopy);
  copy.type = "button";
  copy.style.padding = "6px 16px";
  const copied = el("span", "kline-hint kline-webhook-copied");
  copied.setAttribute("aria-live", "polite");
  copy.addEventListener("click", () => {
    url.select();
    const done = (ok: boolean) => {
      copied.textContent = ok ? t.webhookCopied : t.webhookCopyFailed;
    };
    if (navigator.clipboard) void navigator.clipboard.writeText(url.value).then(() => done(true), () => done(false));
    else done(false);
  });

  const steps = el("ol", "kline-webhook-steps");
  for (const step of t.webhookSteps) steps.append(el("li", "", step));
  const rules = el("div", "kline-webhook-rules");

  const tokenRow = el("div", "kline-row");
  tokenRow.append(token);
  const urlRow = el("div", "kline-row");
  urlRow.append(url, copy, copied);
  section.append(
    tokenLabel,
    tokenRow,
    el("div", "kline-hint", t.webhookTokenHint),
    urlLabel,
    urlRow,
    steps,
    el("p", "kline-hint kline-webhook-limits", t.webhookLimits),
    rules,
  );

  let relayUrl = "";
  const drawUrl = (): void => {
    const ready = relayUrl.trim() !== "";
    url.value = ready ? kintoneWebhookUrl(relayUrl, token.value) : "";
    url.placeholder = ready ? "" : t.webhookUrlNoRelay;
    copy.disabled = !ready;
    copied.textContent = "";
  };
  token.addEventListener("input", drawUrl);

  return {
    section,
    update(nextRelayUrl, list) {
      relayUrl = nextRelayUrl;
      drawUrl();
      const names = (rs: Rule[]) =>
        language === "ja" ? rs.map((r) => `「${r.name?.trim() || r.id}」`).join("") : rs.map((r) => `"${r.name?.trim() || r.id}"`).join(", ");
      const reminders = list.filter((r) => r.trigger.schedule);
      const browserOnly = list.filter((r) => browserOnlyReason(r, t) !== undefined);
      const served = list.filter((r) => !r.trigger.schedule && browserOnlyReason(r, t) === undefined);
      const lines: HTMLElement[] = [];
      if (list.length === 0) lines.push(el("div", "kline-hint", t.webhookRulesNone));
      if (served.length > 0) lines.push(el("div", "kline-webhook-served", t.webhookRulesServed(names(served))));
      if (browserOnly.length > 0) lines.push(el("div", "kline-webhook-browser-only", t.webhookRulesBrowserOnly(names(browserOnly))));
      if (reminders.length > 0) lines.push(el("div", "kline-webhook-reminders", t.webhookRulesReminders(names(reminders))));
      rules.replaceChildren(...lines);
    },
  };
}
