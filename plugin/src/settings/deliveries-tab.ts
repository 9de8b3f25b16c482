/**
 * The "Deliveries" tab of the settings page: this month's count against the relay's cap and
 * LINE's own quota (GET /v1/quota), the app's recent notifications with each recipient's outcome
 * and who acknowledged (GET /v1/apps/{appId}/notifications), and the app's dead letters with a
 * Retry button (GET /v1/apps/{appId}/dead-letters, POST .../{id}/retry). Reached like "Test
 * connection": kintone.proxy with the typed (else saved) app key and X-Relay-App.
 */
import { recordMessages } from "../record-messages";
import type { RelayClient } from "../relay-client";
import type { AppNotification, DeadLetter, Quota } from "./deliveries-api";
import { getQuota, listAppDeadLetters, listAppNotifications, retryAppDeadLetter } from "./deliveries-api";
import { deliveriesTabMessages } from "./deliveries-tab-messages";
import { Button } from "./kuc";

export interface DeliveriesTabDeps {
  language: string;
  appId: string;
  /** The admin's kintone time zone: times are shown in it. */
  timeZone: string;
  /** A client for the URL and key on screen, or what the admin must do first. */
  relay(): RelayClient | string;
  /** How "Test connection" words a failure to reach the relay (unreachable, wrong key, ...). */
  failureText(error: unknown): string;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function table(className: string, caption: string, headings: string[]): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const node = el("table", `kline-dt-table ${className}`);
  node.createCaption().textContent = caption;
  const head = node.createTHead().insertRow();
  for (const heading of headings) {
    const th = el("th", "", heading);
    th.scope = "col";
    head.append(th);
  }
  return { table: node, body: node.createTBody() };
}

export function renderDeliveriesTab(deps: DeliveriesTabDeps): { section: HTMLElement; refresh(): Promise<void> } {
  const m = deliveriesTabMessages(deps.language);
  const states = recordMessages(deps.language).recipientState;
  const time = new Intl.DateTimeFormat(deps.language === "ja" ? "ja-JP" : "en-US", {
    dateStyle: "short",
    timeStyle: "short",
    timeZone: deps.timeZone,
  });
  const at = (iso: string): string => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : time.format(date);
  };

  const section = el("section", "kline-section kline-deliveries-tab");
  section.setAttribute("aria-labelledby", "kline-dt-heading");
  const heading = el("h2", "kline-section-heading", m.tabDeliveries);
  heading.id = "kline-dt-heading";
  const refreshButton = new Button({ className: "kline-dt-refresh", text: m.refresh, type: "normal" });
  const status = el("div", "kline-dt-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const month = el("div", "kline-dt-month");
  const recent = el("div", "kline-dt-recent");
  const dead = el("div", "kline-dt-dead");
  section.append(heading, el("p", "kline-hint", m.intro), refreshButton, status, month, recent, dead);

  refreshButton.addEventListener("click", () => {
    void refresh();
  });

  function showMonth(quota: Quota): void {
    const lines: HTMLElement[] = [el("h3", "kline-section-title", m.monthHeading), el("p", "kline-dt-count", m.relayCount(quota.month, quota.pushed, quota.cap))];
    if (quota.cap !== null && quota.pushed >= quota.cap) lines.push(el("p", "kline-error-line kline-dt-cap-reached", m.capReached));
    if (quota.line) {
      lines.push(el("p", "kline-dt-line-count", m.lineCount(quota.line.totalUsage, quota.line.value, quota.line.type === "limited")));
    } else {
      lines.push(el("p", "kline-hint kline-dt-line-count", m.lineUnknown(quota.lineError ?? "")));
    }
    if (quota.lineLimited) lines.push(el("p", "kline-error-line", m.lineLimited));
    lines.push(el("p", "kline-hint", m.groupNote));
    month.replaceChildren(...lines);
  }

  function recordCell(recordId: string | null): HTMLTableCellElement {
    const cell = document.createElement("td");
    if (!recordId) {
      cell.textContent = m.noRecord;
      return cell;
    }
    const link = el("a", "kline-dt-record", m.recordLink(recordId));
    link.href = `/k/${encodeURIComponent(deps.appId)}/show#record=${encodeURIComponent(recordId)}`;
    cell.append(link);
    return cell;
  }

  function showRecent(notifications: AppNotification[]): void {
    const title = el("h3", "kline-section-title", m.recentHeading);
    if (notifications.length === 0) {
      recent.replaceChildren(title, el("p", "kline-hint kline-dt-recent-empty", m.recentEmpty));
      return;
    }
    const c = m.columns;
    const { table: node, body } = table("kline-dt-notifications", m.recentHeading, [c.time, c.record, c.rule, c.state, c.recipients, c.acknowledged]);
    node.caption?.classList.add("kline-visually-hidden");
    for (const n of notifications) {
      const row = body.insertRow();
      row.className = "kline-dt-notification";
      row.dataset.notification = n.id;
      row.insertCell().textContent = at(n.createdAt);
      row.append(recordCell(n.recordId));
      row.insertCell().textContent = n.rules.map((r) => r.name || r.id).join("、") || m.noRecord;
      const state = row.insertCell();
      state.textContent = m.notificationState[n.state] ?? n.state;
      if (n.detail && n.state !== "dispatched") state.append(el("div", "kline-hint", n.detail));

      const recipients = row.insertCell();
      if (n.recipients.length === 0) recipients.textContent = m.noRecipients;
      const list = el("ul", "kline-dt-list");
      for (const r of n.recipients) {
        const item = el("li", `kline-dt-recipient kline-dt-${r.state}`);
        item.append(el("span", "kline-dt-id", r.id), document.createTextNode(" "), el("span", "kline-dt-state", states[r.state] ?? r.state));
        // LINE's words when it refused, or why nothing was sent; a sent one's request id is noise here.
        if (r.detail && r.state !== "sent") item.append(el("div", "kline-hint kline-dt-detail", r.state === "failed" ? m.lineSaid(r.detail) : r.detail));
        list.append(item);
      }
      if (n.recipients.length > 0) recipients.append(list);

      const acks = row.insertCell();
      const ackList = el("ul", "kline-dt-list");
      for (const a of n.acknowledgements) ackList.append(el("li", "kline-dt-ack", m.ack(a.displayName ?? a.recipient, a.buttonLabel, at(a.at))));
      if (n.acknowledgements.length > 0) acks.append(ackList);
      else acks.textContent = m.noRecord;
    }
    recent.replaceChildren(title, node);
  }

  function showDead(letters: DeadLetter[], client: RelayClient): void {
    const title = el("h3", "kline-section-title", m.deadHeading);
    const intro = el("p", "kline-hint", m.deadIntro);
    if (letters.length === 0) {
      dead.replaceChildren(title, intro, el("p", "kline-hint kline-dt-dead-empty", m.deadEmpty));
      return;
    }
    const c = m.deadColumns;
    const { table: node, body } = table("kline-dt-dead-letters", m.deadHeading, [c.kind, c.record, c.error, c.attempts, c.since, c.action]);
    node.caption?.classList.add("kline-visually-hidden");
    for (const letter of letters) {
      const row = body.insertRow();
      row.className = "kline-dt-dead-letter";
      row.dataset.deadLetter = letter.id;
      const kind = m.deadKind[letter.kind] ?? letter.kind;
      row.insertCell().textContent = kind;
      row.append(recordCell(letter.recordId));
      row.insertCell().append(el("span", "kline-dt-error", letter.error));
      row.insertCell().textContent = String(letter.attempts);
      row.insertCell().textContent = at(letter.firstFailedAt);
      const action = row.insertCell();
      const retry = el("button", "kline-dt-retry", m.retry);
      retry.type = "button";
      retry.setAttribute("aria-label", m.retryLabel(kind, letter.recordId ? m.recordLink(letter.recordId) : letter.id));
      const result = el("div", "kline-dt-retry-result");
      result.setAttribute("role", "status");
      retry.addEventListener("click", () => {
        retry.disabled = true;
        result.className = "kline-dt-retry-result";
        result.textContent = m.retrying;
        retryAppDeadLetter(client, deps.appId, letter.id).then(
          () => {
            result.classList.add("kline-test-ok");
            result.textContent = m.retried;
          },
          (error: unknown) => {
            retry.disabled = false;
            result.classList.add("kline-test-failed");
            result.textContent = m.retryFailed(deps.failureText(error));
          },
        );
      });
      action.append(retry, result);
    }
    dead.replaceChildren(title, intro, node);
  }

  async function refresh(): Promise<void> {
    const client = deps.relay();
    status.className = "kline-dt-status";
    if (typeof client === "string") {
      status.classList.add("kline-test-failed");
      status.textContent = client;
      return;
    }
    status.textContent = m.loading;
    refreshButton.disabled = true;
    try {
      const [quota, notifications, letters] = await Promise.all([
        getQuota(client),
        listAppNotifications(client, deps.appId, 50),
        listAppDeadLetters(client, deps.appId),
      ]);
      showMonth(quota);
      showRecent(notifications);
      showDead(letters, client);
      status.textContent = m.updatedAt(time.format(new Date()));
    } catch (error) {
      // Nothing from an earlier answer stays beside the failure, as if it were current.
      month.replaceChildren();
      recent.replaceChildren();
      dead.replaceChildren();
      status.classList.add("kline-test-failed");
      status.textContent = deps.failureText(error);
    } finally {
      refreshButton.disabled = false;
    }
  }

  return { section, refresh };
}
