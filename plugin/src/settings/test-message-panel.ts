/**
 * "Send a test message": the admin picks a rule, a record and a LINE user or group (a group by its
 * name from GET /v1/groups, or one of the record's own LINE users: the IDs in the rule's
 * recipient fields, read by the relay as the worker reads them); the relay
 * builds the message that rule would send for that record (POST /v1/apps/{appId}/test-message,
 * with the rule set on screen) and pushes it. What LINE said is shown. Reached like "Test
 * connection": kintone.proxy with the typed (else saved) app key and X-Relay-App.
 */
import { LINE_ID_PATTERN } from "../../../common/rules/check-rule-set";
import type { RuleSet } from "../../../common/rules/rule-set";
import type { RelayClient } from "../relay-client";
import { RelayError } from "../relay-client";
import { Button, Dropdown, Text, onValue } from "./kuc";
import type { SettingsMessages } from "./settings-messages";

export interface TestMessageDeps {
  messages: SettingsMessages;
  appId: string;
  /** The rule set as Save would save it. */
  rules(): RuleSet;
  /** A client for the URL and key on screen, or what the admin must do first. */
  relay(): RelayClient | string;
  /** How "Test connection" words a failure to reach the relay. */
  failureText(error: unknown): string;
  /** The record the preview uses, as a starting value. */
  defaultRecordId: string;
}

/** Relay answers that come from the relay itself (its own words), not from getting there. */
const RELAY_REFUSALS = new Set(["line_rejected", "line_unavailable", "unknown_rule", "record_missing", "no_rules", "invalid_rules", "invalid_request", "kintone_unavailable"]);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(...children: HTMLElement[]): HTMLDivElement {
  const node = el("div", "kline-row");
  node.append(...children);
  return node;
}

export function renderTestMessagePanel(deps: TestMessageDeps): { section: HTMLElement; update(): void } {
  const m = deps.messages;
  const section = el("section", "kline-section kline-test-message");
  section.append(el("h2", "kline-section-heading", m.testMessage), el("p", "kline-hint kline-test-message-intro", m.testMessageIntro));

  const rulePicker = new Dropdown({ className: "kline-tm-rule", label: m.testMessageRule, items: [], value: "" });
  const record = new Text({ className: "kline-tm-record", label: m.testMessageRecord, value: deps.defaultRecordId, requiredIcon: true });
  const to = new Text({ className: "kline-tm-to", label: m.testMessageTo, placeholder: "U0123… / C0123…", requiredIcon: true });
  const toHint = el("div", "kline-hint", m.testMessageToHint);
  const groups = new Dropdown({ className: "kline-tm-groups", label: m.testMessageGroups, items: [], value: "" });
  groups.visible = false;
  const loadGroups = new Button({ className: "kline-tm-load-groups", text: m.testMessageLoadGroups, type: "normal" });
  const recordUsers = new Dropdown({ className: "kline-tm-record-users", label: m.testMessageRecordUsers, items: [], value: "" });
  recordUsers.visible = false;
  const recordUsersNote = el("div", "kline-hint kline-tm-record-users-note");
  const groupsNote = el("div", "kline-hint kline-tm-groups-note");
  const send = new Button({ className: "kline-tm-send", text: m.testMessageSend, type: "normal" });
  const result = el("div", "kline-tm-result");
  result.setAttribute("aria-live", "polite");
  result.setAttribute("role", "status");

  onValue<string>(groups, (value) => {
    if (value) to.value = value;
  });
  onValue<string>(recordUsers, (value) => {
    if (value) to.value = value;
  });
  onValue<string>(rulePicker, () => {
    rulePicker.error = "";
    void offerRecordUsers();
  });
  onValue<string>(record, () => {
    record.error = "";
  }, ["input"]);
  onValue<string>(record, () => {
    void offerRecordUsers();
  });

  /** The record's own LINE users for the chosen rule, once a rule and a record number are there; a newer ask wins. */
  let recordUsersAsk = 0;
  async function offerRecordUsers(): Promise<void> {
    const ask = ++recordUsersAsk;
    const ruleId = rulePicker.value ?? "";
    const recordId = (record.value ?? "").trim();
    recordUsers.visible = false;
    recordUsers.items = [];
    recordUsersNote.textContent = "";
    if (!ruleId || !/^[1-9][0-9]*$/.test(recordId)) return;
    const client = deps.relay();
    if (typeof client === "string") return;
    try {
      const users = await client.recordRecipients(deps.appId, { ruleId, recordId, rules: JSON.stringify(deps.rules()) });
      if (ask !== recordUsersAsk) return;
      recordUsers.items = [{ label: "—", value: "" }, ...users.map((u) => ({ label: m.testMessageRecordUserItem(u.field, u.userId), value: u.userId }))];
      recordUsers.value = "";
      recordUsers.visible = users.length > 0;
      recordUsersNote.textContent = users.length > 0 ? "" : m.testMessageNoRecordUsers;
    } catch (error) {
      if (ask !== recordUsersAsk) return;
      recordUsersNote.textContent =
        error instanceof RelayError && RELAY_REFUSALS.has(error.code) ? m.testMessageRefused(error.message) : deps.failureText(error);
    }
  }
  onValue<string>(to, () => {
    to.error = "";
  }, ["input"]);

  const clientOrSay = (): RelayClient | undefined => {
    const client = deps.relay();
    if (typeof client === "string") {
      result.className = "kline-tm-result kline-tm-failed";
      result.textContent = client;
      return undefined;
    }
    return client;
  };

  loadGroups.addEventListener("click", () => {
    const client = clientOrSay();
    if (!client) return;
    groupsNote.textContent = "";
    void client.listGroups().then(
      (list) => {
        const active = list.filter((g) => g.state !== "left");
        groups.items = [{ label: "—", value: "" }, ...active.map((g) => ({ label: m.testMessageGroupItem(g.id, g.kind, (g.joinedAt ?? g.since).slice(0, 10), g.name), value: g.id }))];
        groups.visible = active.length > 0;
        groupsNote.textContent = active.length > 0 ? "" : m.testMessageNoGroups;
      },
      (error: unknown) => {
        groupsNote.textContent = deps.failureText(error);
      },
    );
  });

  send.addEventListener("click", () => {
    void sendTest();
  });

  async function sendTest(): Promise<void> {
    const ruleId = rulePicker.value ?? "";
    const recordId = (record.value ?? "").trim();
    const target = (to.value ?? "").trim();
    rulePicker.error = ruleId ? "" : m.testMessageNeedRule;
    record.error = /^[1-9][0-9]*$/.test(recordId) ? "" : m.testMessageNeedRecord;
    to.error = LINE_ID_PATTERN.test(target) ? "" : m.testMessageNeedTo;
    if (rulePicker.error || record.error || to.error) return;
    const client = clientOrSay();
    if (!client) return;
    result.className = "kline-tm-result";
    result.textContent = m.testMessageSending;
    send.disabled = true;
    try {
      const answer = await client.sendTestMessage(deps.appId, { ruleId, recordId, to: target, rules: JSON.stringify(deps.rules()) });
      result.classList.add("kline-tm-ok");
      result.textContent = m.testMessageSent(answer.to, answer.line?.requestId ?? "");
    } catch (error) {
      result.classList.add("kline-tm-failed");
      result.textContent =
        error instanceof RelayError && RELAY_REFUSALS.has(error.code) ? m.testMessageRefused(error.message) : deps.failureText(error);
    } finally {
      send.disabled = false;
    }
  }

  function update(): void {
    const rules = deps.rules().rules;
    const current = rulePicker.value ?? "";
    rulePicker.items = rules.map((r) => ({ label: r.name ? `${r.name} (${r.id})` : r.id, value: r.id }));
    rulePicker.value = rules.some((r) => r.id === current) ? current : (rules[0]?.id ?? "");
    // A rule picked for the admin (the first one, or another after a removal) offers its record users too.
    if (rulePicker.value !== current) void offerRecordUsers();
  }

  section.append(
    row(rulePicker, record),
    row(recordUsers),
    recordUsersNote,
    row(to, loadGroups, groups),
    toHint,
    groupsNote,
    send,
    result,
  );
  update();
  return { section, update };
}
