/**
 * kintone's webhook: status changes no browser saw (REST API, integrations) notify from the rule
 * set the relay keeps; a change seen by both the plugin and the webhook notifies once, in either
 * order; a wrong token stores nothing; a resent notification id notifies once. Real HTTP: the
 * kintone emulator sends its webhooks to the relay, the relay pushes to the LINE emulator.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEMO_API_TOKEN } from "../../emulators/demo-app.js";
import { startStack, waitFor, type Stack } from "../helpers/start-stack.js";

const TOKEN = "kintone-webhook-token-0123456789abcdefXYZ";
const USER = "U" + "c".repeat(32);

/** Any action into "Approved" (no actions, no from): a webhook can serve it. */
const anyIntoApproved = {
  id: "approved-any",
  trigger: { to: ["Approved"] },
  recipients: { fields: ["line_user_id"], ids: [] },
  message: { title: "Order {{order_no}} approved", fields: ["customer"] },
  buttons: [],
};
/** Browser-only: names the action. */
const byApproveAction = { ...anyIntoApproved, id: "approved-by-action", trigger: { actions: ["Approve"], to: ["Approved"] } };

let stack: Stack;
beforeEach(async () => {
  stack = await startStack({ kintoneWebhookToken: TOKEN });
});
afterEach(async () => {
  await stack?.close();
});

const rows = (table: string) => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
const pushes = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");

async function storeRules(rules: unknown[]) {
  const response = await fetch(`${stack.relayUrl}/v1/apps/${stack.demoAppId}/rules`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.relaySecret}` },
    body: JSON.stringify({ rules: JSON.stringify({ version: 1, timeZone: "Asia/Tokyo", rules }) }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { version: number }).version;
}

function webhookTo(token: string) {
  stack.kintone.addWebhook(stack.demoAppId, { url: `${stack.relayUrl}/kintone/webhook/${token}`, events: ["UPDATE_STATUS", "UPDATE_RECORD"] });
}

/** Runs an action through kintone's REST API with the app's API token: no browser involved. */
async function runActionByRest(recordId: string, action: string) {
  const response = await fetch(`${stack.kintoneUrl}/k/v1/record/status.json`, {
    method: "PUT",
    headers: { "content-type": "application/json", "x-cybozu-api-token": DEMO_API_TOKEN },
    body: JSON.stringify({ app: stack.demoAppId, id: recordId, action }),
  });
  expect(response.status).toBe(200);
}

const addOrder = () => stack.kintone.addRecord(stack.demoAppId, { order_no: "W-1", customer: "Webhook Ltd", line_user_id: USER });

async function settle() {
  await stack.kintone.webhooksSettled();
  await waitFor(async () => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM notifications WHERE state = 'pending'`).get() as { n: number }).n === 0, 8000, "no pending notification");
  await waitFor(() => stack.line.requests.every((r) => r.status !== 0), 5000, "LINE answered");
}

describe("POST /kintone/webhook/{token}", () => {
  it("a status changed through kintone's REST API notifies once, from the stored rules, and names their version", async () => {
    const version = await storeRules([anyIntoApproved, byApproveAction]);
    webhookTo(TOKEN);
    const { id } = addOrder();
    await runActionByRest(id, "Approve");
    await settle();
    await waitFor(() => pushes().length === 1, 5000, "one push");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes()).toHaveLength(1);
    const body = pushes()[0]?.body as { to: string; messages: Array<{ altText: string }> };
    expect(body.to).toBe(USER);
    expect(body.messages[0]?.altText).toContain("Order W-1 approved");

    const webhook = stack.kintone.webhookDeliveries.find((d) => d.body.type === "UPDATE_STATUS");
    expect(webhook?.status).toBe(200);
    const notification = stack.store.db.prepare(`SELECT source, rules_version, state FROM notifications`).all();
    expect(notification).toEqual([{ source: "kintone-webhook", rules_version: version, state: "dispatched" }]);
    const deliveries = await fetch(`${stack.relayUrl}/v1/records/${stack.demoAppId}/${id}/deliveries`, {
      headers: { authorization: `Bearer ${stack.relaySecret}` },
    });
    const view = (await deliveries.json()) as { deliveries: Array<{ ruleId: string; rulesVersion: number | null }> };
    expect(view.deliveries).toEqual([expect.objectContaining({ ruleId: "approved-any", rulesVersion: version })]);
  });

  it("skips a browser-only rule (actions) for a webhook-only change and says why", async () => {
    await storeRules([byApproveAction]);
    webhookTo(TOKEN);
    const { id } = addOrder();
    await runActionByRest(id, "Approve");
    await settle();
    expect(pushes()).toHaveLength(0);
    const row = stack.store.db.prepare(`SELECT state, detail FROM notifications`).get() as { state: string; detail: string };
    expect(row.state).toBe("no_match");
    expect(row.detail).toContain("rule approved-by-action needs actions");
  });

  it("judges from when the relay saw the record before (an edit's webhook), and skips a from-rule when it did not", async () => {
    const fromSubmitted = { ...anyIntoApproved, id: "from-submitted", trigger: { from: ["Submitted"], to: ["Approved"] } };
    await storeRules([fromSubmitted]);
    webhookTo(TOKEN);
    const unseen = addOrder();
    await runActionByRest(unseen.id, "Approve");
    await settle();
    expect(pushes()).toHaveLength(0);
    const skipped = stack.store.db.prepare(`SELECT detail FROM notifications WHERE record_id = ?`).get(unseen.id) as { detail: string };
    expect(skipped.detail).toContain(`needs "from"`);

    const seen = addOrder();
    stack.kintone.editRecord(stack.demoAppId, seen.id, { customer: "Edited Ltd" }); // UPDATE_RECORD webhook: status Submitted at revision 2
    await stack.kintone.webhooksSettled();
    await runActionByRest(seen.id, "Approve");
    await settle();
    await waitFor(() => pushes().length === 1, 5000, "one push for the record seen before");
  });

  it("one change seen by the plugin first and the webhook second notifies once", async () => {
    await storeRules([anyIntoApproved]);
    webhookTo(TOKEN);
    const { id } = addOrder();
    const rules = JSON.stringify({ version: 1, timeZone: "Asia/Tokyo", rules: [anyIntoApproved] });
    const response = await stack.notify({ appId: String(stack.demoAppId), recordId: id, action: "Approve", status: "Submitted", nextStatus: "Approved", rules });
    expect(response.status).toBe(202);
    await waitFor(() => pushes().length === 0 && stack.store.db.prepare(`SELECT 1 FROM jobs`).get() !== undefined, 2000, "the plugin's job");
    await runActionByRest(id, "Approve");
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes()).toHaveLength(1);
    // Whichever of the two confirms first sends; the other finds it already notified.
    const states = stack.store.db.prepare(`SELECT source, state FROM notifications ORDER BY source`).all() as Array<{ source: string; state: string }>;
    expect(states.map((row) => row.source)).toEqual(["kintone-webhook", "plugin"]);
    expect(states.map((row) => row.state).sort()).toEqual(["already_notified", "dispatched"]);
  });

  it("one change seen by the webhook first and the plugin second notifies once", async () => {
    await storeRules([anyIntoApproved]);
    webhookTo(TOKEN);
    const { id } = addOrder();
    await runActionByRest(id, "Approve");
    await settle();
    await waitFor(() => pushes().length === 1, 5000, "the webhook's push");
    const rules = JSON.stringify({ version: 1, timeZone: "Asia/Tokyo", rules: [anyIntoApproved] });
    const response = await stack.notify({ appId: String(stack.demoAppId), recordId: id, action: "Approve", status: "Submitted", nextStatus: "Approved", rules });
    expect(response.status).toBe(202);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes()).toHaveLength(1);
    const plugin = stack.store.db.prepare(`SELECT state FROM notifications WHERE source = 'plugin'`).get() as { state: string };
    expect(plugin.state).toBe("already_notified");
  });

  it("a wrong token answers 404 and stores nothing", async () => {
    await storeRules([anyIntoApproved]);
    webhookTo("x".repeat(40));
    const { id } = addOrder();
    await runActionByRest(id, "Approve");
    await stack.kintone.webhooksSettled();
    const sent = stack.kintone.webhookDeliveries.find((d) => d.body.type === "UPDATE_STATUS");
    expect(sent?.status).toBe(404);
    expect(rows("kintone_webhooks")).toBe(0);
    expect(rows("notifications")).toBe(0);
    expect(rows("record_status_seen")).toBe(0);
    expect(pushes()).toHaveLength(0);
  });

  it("a resent notification id notifies once; other types are accepted and ignored", async () => {
    await storeRules([anyIntoApproved]);
    webhookTo(TOKEN);
    const { id } = addOrder();
    await runActionByRest(id, "Approve");
    await settle();
    await waitFor(() => pushes().length === 1, 5000, "the first push");
    const original = stack.kintone.webhookDeliveries.find((d) => d.body.type === "UPDATE_STATUS");
    expect(original).toBeDefined();
    const resend = await fetch(`${stack.relayUrl}/kintone/webhook/${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(original?.body),
    });
    expect(resend.status).toBe(200);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes()).toHaveLength(1);
    expect(rows("kintone_webhooks")).toBe(1);
    expect(rows("notifications")).toBe(1);

    const comment = await fetch(`${stack.relayUrl}/kintone/webhook/${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "c-1", type: "ADD_RECORD_COMMENT", app: { id: String(stack.demoAppId), name: "Orders" }, record: {} }),
    });
    expect(comment.status).toBe(200);
    const ignored = stack.store.db.prepare(`SELECT outcome FROM kintone_webhooks WHERE id = 'c-1'`).get() as { outcome: string };
    expect(ignored.outcome).toContain("ignored");
    expect(rows("notifications")).toBe(1);
  });
});

describe("without KINTONE_WEBHOOK_TOKEN", () => {
  it("the route does not exist (404)", async () => {
    const bare = await startStack();
    try {
      const response = await fetch(`${bare.relayUrl}/kintone/webhook/${TOKEN}`, { method: "POST", body: "{}" });
      expect(response.status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
