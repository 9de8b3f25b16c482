import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { CLAIM_SQL, openSqliteStore, type SqliteStore } from "../../relay/src/store/sqlite-store.js";

let store: SqliteStore;
afterEach(async () => {
  await store?.close();
});

const event = (eventId: string, sourceKey: string, timestamp: number) => ({
  eventId,
  type: "follow",
  sourceKey,
  timestamp,
  redelivery: false,
  body: "{}",
});

const plan = (sql: string, ...params: unknown[]) =>
  (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail);

it("a claim reads the claim index: no temp B-tree, no scan of jobs, whatever the queue holds", async () => {
  store = openSqliteStore(":memory:");
  const claimPlan = plan(CLAIM_SQL, "delivery", Date.now());
  expect(claimPlan.join(" | ")).toMatch(/USING INDEX jobs_claim/);
  expect(claimPlan.join(" | ")).not.toMatch(/TEMP B-TREE|SCAN jobs\b(?! USING)/);
  // The triggers that keep per-user order read jobs_open, not the whole table.
  const orderPlan = plan(
    `UPDATE jobs SET ready = NOT EXISTS (SELECT 1 FROM jobs e WHERE e.order_key = jobs.order_key AND e.state <> 'done'
       AND (e.order_seq < jobs.order_seq OR (e.order_seq = jobs.order_seq AND e.id < jobs.id)))
     WHERE order_key = ? AND state <> 'done' AND state = 'pending'`,
    "U1",
  );
  expect(orderPlan.join(" | ")).toMatch(/USING INDEX jobs_open/);
  expect(orderPlan.join(" | ")).not.toMatch(/TEMP B-TREE|SCAN/);
});

it("one user's events run one at a time in timestamp order, another user's are not held up", async () => {
  store = openSqliteStore(":memory:");
  const now = 1_000_000;
  // Arrival order differs from timestamp order for user U1.
  await store.storeWebhookEvents([event("u1-late", "U1", 300), event("u1-early", "U1", 100), event("u2", "U2", 200)], now);
  const first = await store.claimJob(now, 60_000, ["webhook-event"]);
  const second = await store.claimJob(now, 60_000, ["webhook-event"]);
  expect([first?.refId, second?.refId].sort()).toEqual(["u1-early", "u2"]);
  // u1-late waits while u1-early runs, and after it is retried (still unfinished).
  expect(await store.claimJob(now, 60_000, ["webhook-event"])).toBeUndefined();
  const early = first?.refId === "u1-early" ? first : second;
  await store.retryJob(early?.id ?? "", now, "kintone 503", { failed: true, now });
  const again = await store.claimJob(now, 60_000, ["webhook-event"]);
  expect(again?.refId).toBe("u1-early");
  expect(again?.firstFailedAt).toBe(now);
  await store.finishWebhookEvent(again?.id ?? "", "u1-early", "done");
  expect((await store.claimJob(now, 60_000, ["webhook-event"]))?.refId).toBe("u1-late");
});

it("claims per lane: a lane only takes its own kinds", async () => {
  store = openSqliteStore(":memory:");
  await store.storeWebhookEvents([event("e1", "U1", 1)], 10);
  expect(await store.claimJob(10, 60_000, ["delivery", "notification"])).toBeUndefined();
  expect((await store.claimJob(10, 60_000, ["webhook-event"]))?.refId).toBe("e1");
});

it("a dead-lettered event no longer holds up the user's later events; a retry runs it again", async () => {
  store = openSqliteStore(":memory:");
  await store.storeWebhookEvents([event("a", "U1", 1), event("b", "U1", 2)], 10);
  const a = await store.claimJob(10, 60_000);
  expect(a?.refId).toBe("a");
  const letter = await store.deadLetterJob(a?.id ?? "", "unexpected: boom", 20);
  expect(letter).toMatchObject({ kind: "webhook-event", refId: "a", error: "unexpected: boom", attempts: 1 });
  expect((await store.listDeadLetters()).map((row) => row.id)).toEqual([letter.id]);
  const b = await store.claimJob(30, 60_000);
  expect(b?.refId).toBe("b");
  expect(await store.retryDeadLetter(letter.id, 40)).toEqual({ ok: true, jobId: a?.id });
  expect(await store.retryDeadLetter(letter.id, 40)).toEqual({ ok: false, reason: "already_retried" });
  expect(await store.retryDeadLetter("x_unknown", 40)).toEqual({ ok: false, reason: "not_found" });
  expect(await store.listDeadLetters()).toEqual([]);
  // "a" is earlier than the running "b": the old rule (earlier unfinished first) lets it run.
  expect((await store.claimJob(40, 60_000))?.refId).toBe("a");
  expect((await store.getWebhookEvent("a"))?.state).toBe("pending");
});

it("npm run bench:claim prints the claim time with 10 and with 100,000 jobs queued", async () => {
  const { stdout } = await promisify(execFile)("npm", ["run", "--silent", "bench:claim"], { cwd: join(import.meta.dirname, "../..") });
  const lines = stdout.trim().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^10 jobs queued: [\d.]+ µs per claim/);
  expect(lines[1]).toMatch(/^100,000 jobs queued: [\d.]+ µs per claim/);
}, 120_000);
