import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack, type StackOptions } from "../helpers/start-stack.js";

const USER_A = "U" + "a".repeat(32);
const HOUR = 60 * 60_000;

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

async function setUp(options: StackOptions = {}) {
  stack = await startStack(options);
  stack.line.setProfile(USER_A, { displayName: "Hanako Yamada" });
}

/** A new order, approved in kintone, notified: resolves with the notification id. */
async function notifyNewOrder(): Promise<string> {
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-7", customer: "Sakura", line_user_id: USER_A });
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  const response = await stack.notify(approvalRequest(recordId, demoRuleSet()));
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const pushes = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");
const replies = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/reply");
const pendingDeliveries = () =>
  (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE kind = 'delivery' AND state <> 'done'`).get() as { n: number }).n;

it("a tap is replied to within 5 s while 120 pushes wait behind a slow LINE (500 ms each)", async () => {
  await setUp();
  await notifyNewOrder();
  await waitFor(() => stack.line.delivered.length === 1, 5000, "the first push");
  const pushed = JSON.stringify(stack.line.delivered[0]?.messages);
  const postbackData = /"data":"([^"]+)"/.exec(pushed)?.[1];
  expect(postbackData).toBeDefined();

  stack.line.delayNext("push", 500, 1000);
  await Promise.all(Array.from({ length: 120 }, () => notifyNewOrder()));
  await waitFor(() => pendingDeliveries() >= 60, 10_000, "a backlog of pushes");

  const replyToken = stack.line.issueReplyToken({ userId: USER_A });
  const started = Date.now();
  const response = await postWebhook(stack.relayUrl, webhookBody([postbackEvent(postbackData ?? "", { userId: USER_A, replyToken })]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
  await waitFor(() => replies().length === 1, 10_000, "the reply");
  const elapsed = Date.now() - started;
  console.log(`reply after ${elapsed} ms with ${pendingDeliveries()} pushes still queued`);
  expect(elapsed).toBeLessThan(5000);
  expect(replies()[0]?.body).toEqual({ replyToken, messages: [{ type: "text", text: expect.any(String) }] });
  // The backlog was really there when the reply went out.
  expect(pendingDeliveries()).toBeGreaterThan(30);
}, 60_000);

it("a delivery LINE refuses with 500 past the give-up time is a dead letter; retried, it is delivered once with the same body and retry key", async () => {
  let now = Date.now();
  await setUp({ clock: { now: () => now }, giveUpAfterMs: 2 * HOUR, retryBaseMs: 10 });
  stack.line.failNext("push", { status: 500, count: 100_000 });
  await notifyNewOrder();
  await waitFor(() => pushes().length >= 1, 5000, "the first refused push");
  // LINE keeps refusing for three hours of clock time.
  const settled = () => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'running'`).get() as { n: number }).n === 0;
  for (let i = 0; i < 12 && (await stack.store.listDeadLetters()).length === 0; i++) {
    // The last attempt is recorded before the clock moves on.
    await waitFor(settled, 5000, "the attempt to be recorded");
    now += 15 * 60_000;
    stack.relay.worker.wake();
    const before = pushes().length;
    await waitFor(async () => pushes().length > before || (await stack.store.listDeadLetters()).length > 0, 5000, "another attempt");
  }
  const listed = await fetch(`${stack.relayUrl}/v1/dead-letters`, { headers: { authorization: `Bearer ${stack.relaySecret}` } });
  expect(listed.status).toBe(200);
  const letters = (await listed.json()) as Array<Record<string, unknown>>;
  expect(letters).toHaveLength(1);
  const [letter] = letters;
  expect(letter).toMatchObject({ kind: "delivery", appId: String(stack.demoAppId), recordId: expect.any(String), attempts: expect.any(Number) });
  expect(String(letter?.error)).toContain("500");
  expect(Date.parse(String(letter?.firstFailedAt))).toBeLessThanOrEqual(now - 2 * HOUR);
  const gaveUp = stack.logger.lines.filter((entry) => entry.level === "error" && entry.message.startsWith("gave up"));
  expect(gaveUp).toHaveLength(1);

  const refused = pushes();
  const attemptsBefore = refused.length;
  expect(refused.every((r) => r.status === 500)).toBe(true);
  // Nothing more is tried once it is a dead letter.
  now += HOUR;
  stack.relay.worker.wake();
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(pushes()).toHaveLength(attemptsBefore);

  // LINE recovers; the operator re-drives it.
  stack.line.reset();
  const unknown = await fetch(`${stack.relayUrl}/v1/dead-letters/x_nope/retry`, { method: "POST", headers: { authorization: `Bearer ${stack.relaySecret}` } });
  expect(unknown.status).toBe(404);
  const retried = await fetch(`${stack.relayUrl}/v1/dead-letters/${String(letter?.id)}/retry`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.relaySecret}` },
  });
  expect(retried.status).toBe(202);
  await waitFor(() => stack.line.delivered.length === 1, 5000, "the re-driven push");
  await stack.relay.worker.idle();
  const [sent] = pushes();
  expect(pushes()).toHaveLength(1);
  expect(sent?.status).toBe(200);
  expect(sent?.headers["x-line-retry-key"]).toBe(refused[0]?.headers["x-line-retry-key"]);
  expect(sent?.body).toEqual(refused[0]?.body);
  expect(await (await fetch(`${stack.relayUrl}/v1/dead-letters`, { headers: { authorization: `Bearer ${stack.relaySecret}` } })).json()).toEqual([]);
}, 60_000);

it("a notification during a two-hour kintone outage waits, then is delivered once; an outage is not 'not confirmed'", async () => {
  let now = Date.now();
  await setUp({ clock: { now: () => now }, retryBaseMs: 10, confirmTimeoutMs: 5_000 });
  // Two hours of 503 (kintone's maintenance answer) to every record read, one attempt per 15 minutes.
  stack.kintone.failNext({ method: "GET", path: "/k/v1/record.json" }, { status: 503, count: 10 });
  const id = await notifyNewOrder();
  for (let i = 0; i < 8; i++) {
    now += 15 * 60_000;
    stack.relay.worker.wake();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect((await stack.store.getNotification(id))?.state).toBe("pending");
  for (let i = 0; i < 10 && stack.line.delivered.length === 0; i++) {
    now += 15 * 60_000;
    stack.relay.worker.wake();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await waitFor(() => stack.line.delivered.length === 1, 5000, "the push after the outage");
  const reads = stack.kintone.requests.filter((r) => r.path === "/k/v1/record.json" && r.method === "GET");
  expect(reads.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(9);
  expect((await stack.store.getNotification(id))?.state).toBe("dispatched");
}, 60_000);

it("over the queue bound, new notifications are refused with 503 and Retry-After, and nothing is stored", async () => {
  await setUp({ maxUnfinishedJobs: 3 });
  stack.line.delayNext("push", 5000, 10);
  for (let i = 0; i < 3; i++) await notifyNewOrder();
  // Far below the bound the relay counts at most once a second.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-8", customer: "Sakura", line_user_id: USER_A });
  const count = () => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM notifications`).get() as { n: number }).n;
  const before = count();
  const refused = await stack.notify(approvalRequest(recordId, demoRuleSet()));
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("queue_full");
  expect(count()).toBe(before);
}, 30_000);
