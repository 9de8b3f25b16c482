import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { postbackEvent, postWebhook, unfollowEvent, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack, type StackOptions } from "../helpers/start-stack.js";

const USER_A = "U" + "a".repeat(32);
const USER_B = "U" + "b".repeat(32);
const HOUR = 60 * 60_000;

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

async function setUp(options: StackOptions = {}) {
  stack = await startStack(options);
  stack.line.setProfile(USER_A, { displayName: "Hanako Yamada" });
}

/** What the settings page sends through kintone.proxy: the app's key and X-Relay-App. */
function asApp(appId: string, path: string, init: RequestInit = {}) {
  return fetch(`${stack.relayUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${deriveAppKey(stack.relaySecret, appId)}`, "x-relay-app": appId },
  });
}

/** An order approved in kintone for `userId`, notified; resolves with the record and notification ids. */
async function notifyApproved(userId: string, orderNo: string) {
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: orderNo, customer: "Sakura", amount: "1200", line_user_id: userId });
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  const response = await stack.notify(approvalRequest(recordId, demoRuleSet()));
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  await waitFor(async () => {
    const outcomes = await stack.store.listRecipientOutcomes(id);
    return outcomes.length > 0 && outcomes.every((o) => o.state !== "pending");
  }, 10_000, `notification ${id} to end`);
  return { recordId: String(recordId), id };
}

const pushes = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");

interface Listed {
  appId: string;
  notifications: Array<{
    id: string;
    recordId: string;
    state: string;
    detail: string | null;
    createdAt: string;
    rulesVersion: number | null;
    rules: Array<{ id: string; name: string }>;
    recipients: Array<{ id: string; ruleId: string; state: string; detail: string | null }>;
    acknowledgements: Array<{ recipient: string; displayName: string | null; buttonId: string; buttonLabel: string; at: string }>;
  }>;
}

it("GET /v1/apps/{appId}/notifications: newest first, a sent (acknowledged), a blocked and a capped recipient, for the app's own key only", async () => {
  await setUp({ monthlyPushCap: 1 });
  const sent = await notifyApproved(USER_A, "A-1");
  expect(pushes()).toHaveLength(1);

  // Hanako taps "Got it".
  const postbackData = /"data":"([^"]+)"/.exec(JSON.stringify(stack.line.delivered[0]?.messages))?.[1] ?? "";
  const replyToken = stack.line.issueReplyToken({ userId: USER_A });
  expect((await postWebhook(stack.relayUrl, webhookBody([postbackEvent(postbackData, { userId: USER_A, replyToken })]), TEST_CHANNEL_SECRET)).status).toBe(200);
  const [sentOutcome] = await stack.store.listRecipientOutcomes(sent.id);
  await waitFor(async () => (await stack.store.listAcknowledgements([sentOutcome?.deliveryId ?? ""]))[0]?.state === "written", 10_000, "the acknowledgement");

  // USER_B blocked the account before their order was approved.
  expect((await postWebhook(stack.relayUrl, webhookBody([unfollowEvent({ userId: USER_B })]), TEST_CHANNEL_SECRET)).status).toBe(200);
  await waitFor(() => stack.store.isBlocked(USER_B), 10_000, "USER_B blocked");
  const blocked = await notifyApproved(USER_B, "B-1");
  // The cap (1) is reached: Hanako's second order is not pushed.
  const capped = await notifyApproved(USER_A, "A-2");
  expect(pushes()).toHaveLength(1);

  const response = await asApp("1", "/v1/apps/1/notifications?limit=50");
  expect(response.status).toBe(200);
  const body = (await response.json()) as Listed;
  expect(body.appId).toBe("1");
  expect(body.notifications.map((n) => n.id)).toEqual([capped.id, blocked.id, sent.id]);
  const [third, second, first] = body.notifications;

  expect(first).toMatchObject({
    recordId: sent.recordId,
    state: "dispatched",
    rules: [{ id: "approved", name: "Approved -> tell the customer" }],
    recipients: [{ id: "Uaaaa…aaaa", ruleId: "approved", state: "sent", detail: expect.stringMatching(/^x-line-request-id [0-9a-f-]{36}$/) }],
    acknowledgements: [{ recipient: "Uaaaa…aaaa", displayName: "Hanako Yamada", buttonId: "ack", buttonLabel: "Got it" }],
  });
  expect(Date.parse(first?.acknowledgements[0]?.at ?? "")).toBeGreaterThanOrEqual(Date.parse(first?.createdAt ?? ""));
  expect(first?.rulesVersion).toEqual(expect.any(Number));
  expect(second).toMatchObject({ recordId: blocked.recordId, recipients: [{ id: "Ubbbb…bbbb", state: "blocked" }], acknowledgements: [] });
  expect(third?.recipients).toEqual([{ id: "Uaaaa…aaaa", ruleId: "approved", state: "capped", detail: expect.stringContaining("RELAY_MONTHLY_PUSH_CAP 1 reached") }]);

  // limit keeps the newest; a bad limit is refused.
  expect(((await (await asApp("1", "/v1/apps/1/notifications?limit=1")).json()) as Listed).notifications.map((n) => n.id)).toEqual([capped.id]);
  expect((await asApp("1", "/v1/apps/1/notifications?limit=0")).status).toBe(400);
  // Another app's key: 403, nothing listed; the master secret sees it.
  const other = await asApp("2", "/v1/apps/1/notifications");
  expect(other.status).toBe(403);
  expect(((await other.json()) as { error: { code: string } }).error.code).toBe("wrong_app");
  expect(((await asApp("2", "/v1/apps/2/notifications").then((r) => r.json())) as Listed).notifications).toEqual([]);
  const master = await fetch(`${stack.relayUrl}/v1/apps/1/notifications`, { headers: { authorization: `Bearer ${stack.relaySecret}` } });
  expect(((await master.json()) as Listed).notifications).toHaveLength(3);
}, 60_000);

it("app dead letters: app 1's key lists and retries only its own; app 2's is 404 and not re-run; its own is pushed once with the original retry key", async () => {
  let now = Date.now();
  await setUp({ clock: { now: () => now }, giveUpAfterMs: 2 * HOUR, retryBaseMs: 10 });
  // App 1: LINE refuses every push with 500.
  stack.line.failNext("push", { status: 500, count: 100_000 });
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-7", customer: "Sakura", line_user_id: USER_A });
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  expect((await stack.notify(approvalRequest(recordId, demoRuleSet()))).status).toBe(202);
  await waitFor(() => pushes().length >= 1, 5000, "the first refused push");
  // App 2: kintone answers 503 to every record read, so its notification keeps failing too.
  stack.kintone.failNext({ method: "GET", path: "/k/v1/record.json" }, { status: 503, count: 100_000 });
  expect((await stack.notify({ ...approvalRequest(5, demoRuleSet()), appId: "2" })).status).toBe(202);

  const settled = () => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'running'`).get() as { n: number }).n === 0;
  for (let i = 0; i < 16 && (await stack.store.listDeadLetters()).length < 2; i++) {
    await waitFor(settled, 5000, "the attempts to be recorded");
    now += 15 * 60_000;
    stack.relay.worker.wake();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await waitFor(settled, 5000, "the last attempts to be recorded");
  const all = await stack.store.listDeadLetters();
  const own = all.find((l) => l.appId === "1");
  const others = all.find((l) => l.appId === "2");
  expect(own?.kind).toBe("delivery");
  expect(others?.kind).toBe("notification");

  const listed = await asApp("1", "/v1/apps/1/dead-letters");
  expect(listed.status).toBe(200);
  expect(await listed.json()).toEqual([
    { id: own?.id, kind: "delivery", appId: "1", recordId: String(recordId), error: expect.stringContaining("500"), attempts: expect.any(Number), firstFailedAt: expect.any(String) },
  ]);
  expect((await asApp("1", "/v1/apps/2/dead-letters")).status).toBe(403);

  // App 2's dead letter through app 1's path: the same 404 as an unknown id, and nothing runs again.
  const kintoneReads = stack.kintone.requests.length;
  const probe = await asApp("1", `/v1/apps/1/dead-letters/${others?.id}/retry`, { method: "POST" });
  expect(probe.status).toBe(404);
  expect(((await probe.json()) as { error: { code: string } }).error.code).toBe("not_found");
  expect((await asApp("1", "/v1/apps/1/dead-letters/x_nope/retry", { method: "POST" })).status).toBe(404);
  expect((await asApp("1", `/v1/apps/2/dead-letters/${others?.id}/retry`, { method: "POST" })).status).toBe(403);
  stack.relay.worker.wake();
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(stack.kintone.requests.length).toBe(kintoneReads);
  expect((await stack.store.getDeadLetter(others?.id ?? ""))?.retriedAt).toBeNull();

  // LINE recovers; app 1's admin retries its own.
  const refused = pushes();
  stack.line.reset();
  const retried = await asApp("1", `/v1/apps/1/dead-letters/${own?.id}/retry`, { method: "POST" });
  expect(retried.status).toBe(202);
  expect(await retried.json()).toEqual({ id: own?.id, jobId: expect.any(String) });
  await waitFor(() => stack.line.delivered.length === 1, 5000, "the re-driven push");
  await waitFor(settled, 5000, "the push to be recorded");
  expect(pushes()).toHaveLength(1);
  expect(pushes()[0]?.status).toBe(200);
  expect(pushes()[0]?.headers["x-line-retry-key"]).toBe(refused[0]?.headers["x-line-retry-key"]);
  expect(pushes()[0]?.body).toEqual(refused[0]?.body);
  expect(await (await asApp("1", "/v1/apps/1/dead-letters")).json()).toEqual([]);
  // A second retry of the same letter: 409, nothing pushed again.
  expect((await asApp("1", `/v1/apps/1/dead-letters/${own?.id}/retry`, { method: "POST" })).status).toBe(409);
  const view = (await (await asApp("1", "/v1/apps/1/notifications")).json()) as Listed;
  expect(view.notifications[0]?.recipients.map((r) => r.state)).toEqual(["sent"]);
}, 90_000);
