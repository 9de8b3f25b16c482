import { describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import type { ProcessProceedEvent } from "../../plugin/src/host.js";
import type { PluginConfig } from "../../plugin/src/plugin-config.js";
import type { ProceedDeps } from "../../plugin/src/process-proceed.js";
import { handleProcessProceed } from "../../plugin/src/process-proceed.js";
import { recordMessages } from "../../plugin/src/record-messages.js";
import type { NotificationRequest } from "../../plugin/src/relay-client.js";
import { RelayError } from "../../plugin/src/relay-client.js";

function event(action: string, status: string, nextStatus: string, priority = "High"): ProcessProceedEvent {
  return {
    type: "app.record.detail.process.proceed",
    appId: 1,
    recordId: 7,
    record: { $id: { type: "__ID__", value: "7" }, priority: { type: "DROP_DOWN", value: priority } },
    action: { value: action },
    status: { value: status },
    nextStatus: { value: nextStatus },
  };
}

function deps(config: PluginConfig | null, notify: (r: NotificationRequest) => Promise<unknown>) {
  const notices: string[] = [];
  const requests: NotificationRequest[] = [];
  const d: ProceedDeps = {
    config,
    notify: (request) => {
      requests.push(request);
      return notify(request);
    },
    showNotice: (text) => notices.push(text),
    messages: recordMessages("en"),
    appId: () => 1,
  };
  return { d, notices, requests };
}

const config = (blockOnFailure = false): PluginConfig => {
  const ruleSet = demoRuleSet();
  const rule = { ...ruleSet.rules[0]!, when: { all: [{ field: "priority", op: "eq" as const, value: "High" }] }, blockOnFailure };
  return { relayUrl: "https://r.example", ruleSet: { version: 1, rules: [rule] } };
};

describe("handleProcessProceed", () => {
  it("returns the event itself, at once and without a request, when no trigger matches", () => {
    const { d, requests } = deps(config(), () => Promise.resolve("id"));
    const e = event("Reject", "Submitted", "Rejected");
    expect(handleProcessProceed(e, d)).toBe(e);
    expect(requests).toEqual([]);
  });

  it("returns at once when the trigger matches but a field condition does not", () => {
    const { d, requests } = deps(config(), () => Promise.resolve("id"));
    const e = event("Approve", "Submitted", "Approved", "Low");
    expect(handleProcessProceed(e, d)).toBe(e);
    expect(requests).toEqual([]);
  });

  it("returns at once when the plugin is not configured", () => {
    const { d } = deps(null, () => Promise.resolve("id"));
    const e = event("Approve", "Submitted", "Approved");
    expect(handleProcessProceed(e, d)).toBe(e);
  });

  it("asks the relay on a match, with references only, and lets the action go on", async () => {
    const { d, requests, notices } = deps(config(), () => Promise.resolve("id"));
    const result = await handleProcessProceed(event("Approve", "Submitted", "Approved"), d);
    expect(result.error).toBeUndefined();
    expect(requests).toEqual([{ appId: "1", recordId: "7", action: "Approve", status: "Submitted", nextStatus: "Approved" }]);
    expect(notices).toEqual([]);
  });

  it("lets the action go on with a notice when the relay fails", async () => {
    const { d, notices } = deps(config(), () => Promise.reject(new RelayError("the relay could not be reached", 0, "unreachable")));
    const result = await handleProcessProceed(event("Approve", "Submitted", "Approved"), d);
    expect(result.error).toBeUndefined();
    expect(notices).toEqual(["LINE notification could not be sent: the relay could not be reached. The action was completed."]);
  });

  it("refuses the action with the reason when a matching rule blocks on failure", async () => {
    const { d, notices } = deps(config(true), () => Promise.reject(new RelayError("bad rules", 400, "invalid_request")));
    const result = await handleProcessProceed(event("Approve", "Submitted", "Approved"), d);
    expect(result.error).toBe(recordMessages("en").blocked("the relay refused the request: bad rules [invalid_request]"));
    expect(notices).toEqual([]);
  });
});

describe("date conditions follow the rule set's time zone, not the user's", () => {
  // 2026-11-21T16:00Z is already the 22nd in Tokyo but still the 21st in New York.
  const dated = (ruleSetTimeZone?: string): PluginConfig => {
    const ruleSet = demoRuleSet();
    const rule = { ...ruleSet.rules[0]!, when: { all: [{ field: "shipped_at", op: "eq" as const, value: "2026-11-22" }] } };
    return { relayUrl: "https://r.example", ruleSet: { version: 1, ...(ruleSetTimeZone ? { timeZone: ruleSetTimeZone } : {}), rules: [rule] } };
  };
  const withShippedAt = (): ProcessProceedEvent => {
    const e = event("Approve", "Submitted", "Approved");
    e.record["shipped_at"] = { type: "DATETIME", value: "2026-11-21T16:00:00Z" };
    return e;
  };

  it("a user in New York still matches a rule judged in Asia/Tokyo, as the relay will", async () => {
    const { d, requests } = deps(dated("Asia/Tokyo"), () => Promise.resolve("id"));
    await handleProcessProceed(withShippedAt(), { ...d, timeZone: "America/New_York" });
    expect(requests).toHaveLength(1);
  });

  it("without a zone in the rule set, the shared default (Asia/Tokyo) is used, as the relay does, whatever the user's zone", async () => {
    const { d, requests } = deps(dated(), () => Promise.resolve("id"));
    await handleProcessProceed(withShippedAt(), { ...d, timeZone: "America/New_York" });
    expect(requests).toHaveLength(1);
  });
});
