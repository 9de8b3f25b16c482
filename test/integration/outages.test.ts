import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack } from "../helpers/start-stack.js";

// Outages of hours, simulated: the relay and the emulators read an injected clock, and the test
// moves it on in steps, waking the worker and waiting after each step until every due job has
// been tried. The emulators' outages (`forMs`) run on the wall clock: the test arms one in slices,
// the next slice before every step while the last is still on (it checks that), so the outage
// has no gap from the first slice to the end of the simulated hours, and it ends a slice after
// the last step instead of after a length guessed for all the steps together.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const COMMENT_PATH = "/k/v1/record/comment.json";
/** Wall-clock length of one slice of an outage: far longer than a step takes on a loaded machine. */
const OUTAGE_SLICE_MS = 5_000;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const userOf = (i: number) => "U" + (0xa000 + i).toString(16).padStart(32, "0");

/** A stack whose clock the test moves; `step` moves it and waits until every due job was tried. */
async function startClockedStack() {
  let now = Date.now();
  const started = await startStack({ clock: { now: () => now }, retryBaseMs: 10 });
  stack = started;
  const db = started.store.db;
  const unsettled = () =>
    (db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'running' OR (state = 'pending' AND ready = 1 AND run_at <= ?)`).get(now) as { n: number }).n;
  const settle = () => waitFor(() => unsettled() === 0, 20_000, "every due job to be tried");
  return {
    stack: started,
    now: () => now,
    settle,
    async step(ms: number) {
      await settle();
      now += ms;
      started.relay.worker.wake();
      await settle();
    },
  };
}

/**
 * A wall-clock outage kept on in slices: `arm(forMs)` arms one slice at the emulator. `extend()`
 * arms the next slice and first checks that the last one is still on; `assertOn()` checks the
 * same without extending; `over()` waits until the last slice has ended.
 */
function outageInSlices(arm: (forMs: number) => void) {
  let endsAt: number | undefined;
  const assertOn = () => expect(Date.now(), "the outage ended before the test extended it").toBeLessThan(endsAt ?? 0);
  const extend = () => {
    if (endsAt !== undefined) assertOn();
    // The emulator counts from its own Date.now(), a moment later: its slice ends at endsAt or after.
    const next = Date.now() + OUTAGE_SLICE_MS;
    arm(next - Date.now());
    endsAt = next;
  };
  extend();
  return {
    extend,
    assertOn,
    over: () => new Promise((resolve) => setTimeout(resolve, Math.max(0, (endsAt ?? 0) - Date.now() + 50))),
  };
}

/** A new order for `user`, approved in kintone, notified through POST /v1/notifications. */
async function notifyOrder(s: Stack, i: number): Promise<string> {
  const { id: recordId } = s.kintone.addRecord(s.demoAppId, { order_no: `A-${i}`, customer: `Customer ${i}`, line_user_id: userOf(i) });
  s.kintone.runAction(s.demoAppId, recordId, "Approve");
  const response = await s.notify(approvalRequest(recordId, demoRuleSet()));
  expect(response.status).toBe(202);
  return recordId;
}

it("20 taps during a kintone outage are answered 200 at once and, once kintone is back, give 20 acknowledgements, each written once", { timeout: 120_000 }, async () => {
  const { stack: s, now, settle, step } = await startClockedStack();
  const taps = 20;
  const records = [];
  for (let i = 0; i < taps; i++) {
    s.line.setProfile(userOf(i), { displayName: `User ${i}` });
    records.push(await notifyOrder(s, i));
  }
  await waitFor(() => s.line.delivered.length === taps, 20_000, "20 pushes");
  await settle();
  const postbackOf = (i: number) => {
    const push = s.line.delivered.find((d) => d.to.includes(userOf(i)));
    const data = /"data":"([^"]+)"/.exec(JSON.stringify(push?.messages))?.[1];
    if (!data) throw new Error(`no button in the push to user ${i}`);
    return data;
  };

  await step(MINUTE); // what kintone answered before the outage is older than it

  // kintone goes down: every request answers 503 (its answer while it is unavailable).
  const outage = outageInSlices((forMs) => s.kintone.failNext({}, { status: 503, forMs }));
  const outageStart = now();
  const answers = await Promise.all(
    Array.from({ length: taps }, async (_, i) => {
      const event = postbackEvent(postbackOf(i), { userId: userOf(i), replyToken: s.line.issueReplyToken({ userId: userOf(i) }), timestamp: now() });
      const sent = Date.now();
      const response = await postWebhook(s.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET);
      return { status: response.status, ms: Date.now() - sent };
    }),
  );
  // LINE counts an answer slower than 2 s as a failure; the relay answers before any kintone call.
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(2000);
  }

  // Two hours of the outage, the taps retried every few minutes.
  await settle();
  for (let minutes = 0; minutes < 120; minutes += 10) {
    outage.extend();
    await step(10 * MINUTE);
  }
  outage.assertOn(); // the outage really lasted the two simulated hours
  const refused = s.kintone.requests.filter((r) => r.status === 503);
  expect(refused.length).toBeGreaterThanOrEqual(taps * 5);
  expect(now() - outageStart).toBe(2 * HOUR);
  expect(s.kintone.requests.filter((r) => r.at >= outageStart && r.status !== 503)).toHaveLength(0);
  for (const recordId of records) expect(s.kintone.getRecord(s.demoAppId, recordId)["ack_status"]?.value).toBe("");
  expect(await s.store.listDeadLetters()).toEqual([]);

  // kintone comes back.
  await outage.over();
  const backAt = now();
  for (let i = 0; i < 10 && !records.every((id) => s.kintone.getRecord(s.demoAppId, id)["ack_status"]?.value === "Acknowledged"); i++) {
    await step(10 * MINUTE);
  }
  await s.relay.worker.idle();

  const after = s.kintone.requests.filter((r) => r.at >= backAt);
  records.forEach((recordId, i) => {
    const record = s.kintone.getRecord(s.demoAppId, recordId);
    expect(record["ack_status"]?.value).toBe("Acknowledged");
    expect(record["ack_by"]?.value).toBe(`User ${i}`);
    expect(s.kintone.comments(s.demoAppId, recordId).map((c) => c.text)).toEqual([`Acknowledged on LINE by User ${i}`]);
    // Update Record names the record in `id`, Add Comment in `record`.
    const writes = s.kintone.requests.filter((r) => r.path === "/k/v1/record.json" && r.method === "PUT" && r.status === 200 && String((r.body as { id?: unknown }).id) === recordId);
    const comments = s.kintone.requests.filter((r) => r.path === COMMENT_PATH && r.method === "POST" && r.status === 200 && String((r.body as { record?: unknown }).record) === recordId);
    expect(writes).toHaveLength(1);
    expect(comments).toHaveLength(1);
  });
  // Every field write and comment kintone took came after it was back, one of each per record.
  expect(after.filter((r) => r.path === "/k/v1/record.json" && r.method === "PUT" && r.status === 200)).toHaveLength(taps);
  expect(after.filter((r) => r.path === COMMENT_PATH && r.method === "POST" && r.status === 200)).toHaveLength(taps);
  const acks = s.store.db.prepare(`SELECT state, COUNT(*) AS n FROM acknowledgements GROUP BY state`).all();
  expect(acks).toEqual([{ state: "written", n: taps }]);

  // The reply tokens expired during the outage (LINE takes a reply within a minute): each reply is
  // skipped with a log line, never sent late or turned into a push.
  expect(s.line.delivered.filter((d) => d.kind === "reply")).toHaveLength(0);
  expect(s.line.delivered.filter((d) => d.kind !== "reply")).toHaveLength(taps);
  expect(s.logger.lines.filter((l) => l.message.startsWith("reply skipped"))).toHaveLength(taps);
  expect(await s.store.listDeadLetters()).toEqual([]);
});

it("a two-hour LINE outage (500s and lost connections) ends with every notification pushed exactly once, none dead-lettered", { timeout: 120_000 }, async () => {
  const { stack: s, now, settle, step } = await startClockedStack();
  const pushes = () => s.line.requests.filter((r) => r.path === "/v2/bot/message/push");
  // LINE goes down: the first push attempts lose their connection, then every push answers 500.
  s.line.dropNext("push", 10);
  const outage = outageInSlices((forMs) => s.line.failNext("push", { status: 500, forMs }));
  const outageStart = now();
  let sent = 0;
  for (; sent < 5; sent++) await notifyOrder(s, sent);
  await settle();
  // Two simulated hours; notifications keep coming (two every ten minutes).
  while (now() - outageStart < 2 * HOUR) {
    outage.extend();
    for (let k = 0; k < 2; k++) await notifyOrder(s, sent++);
    await step(10 * MINUTE);
  }
  outage.assertOn(); // still down when the two hours were over
  expect(s.line.delivered).toHaveLength(0);
  const failed = pushes();
  expect(failed.filter((r) => r.status === 500).length).toBeGreaterThan(sent);
  expect(failed.every((r) => r.status !== 200)).toBe(true);
  expect(await s.store.listDeadLetters()).toEqual([]);

  // LINE recovers.
  await outage.over();
  for (let i = 0; i < 10 && s.line.delivered.length < sent; i++) await step(10 * MINUTE);
  await s.relay.worker.idle();

  // Each notification's push reached LINE once: one accepted request per retry key, one delivery
  // per user, and the retry key of each was the one its failed attempts carried.
  expect(s.line.delivered).toHaveLength(sent);
  const accepted = pushes().filter((r) => r.status === 200);
  const keys = accepted.map((r) => r.headers["x-line-retry-key"]);
  expect(new Set(keys).size).toBe(sent);
  expect(pushes().filter((r) => r.status === 409)).toHaveLength(0);
  for (let i = 0; i < sent; i++) {
    const toUser = s.line.delivered.filter((d) => d.to.includes(userOf(i)));
    expect(toUser).toHaveLength(1);
    expect(JSON.stringify(toUser[0]?.messages)).toContain(`Order A-${i} approved`);
  }
  const failedKeys = new Set(failed.map((r) => r.headers["x-line-retry-key"]));
  for (const key of failedKeys) expect(keys).toContain(key);
  expect(await s.store.listDeadLetters()).toEqual([]);
  const states = s.store.db.prepare(`SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state`).all();
  expect(states).toEqual([{ state: "sent", n: sent }]);
});
