import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { CLAIM_BATCH_SQL, CLAIM_SQL, openSqliteStore, type SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { held } from "../helpers/held-job.js";

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
  // The statements of the triggers that keep per-user order (taken from the schema itself) seek
  // jobs_open or the primary key: none reads the whole table or sorts.
  const triggers = store.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'jobs'").all() as Array<{ name: string; sql: string }>;
  expect(triggers.map((t) => t.name).sort()).toEqual(["jobs_order_on_done", "jobs_order_on_insert", "jobs_order_on_reopen"]);
  for (const { sql } of triggers.filter((t) => t.name !== "jobs_order_on_reopen")) {
    const body = sql.slice(sql.indexOf("BEGIN") + 5, sql.lastIndexOf("END"));
    for (const statement of body.split(";").map((part) => part.replace(/--[^\n]*/g, "").trim()).filter(Boolean)) {
      const params = statement.replace(/NEW\.(\w+)/g, "?");
      const count = (params.match(/\?/g) ?? []).length;
      const orderPlan = plan(params, ...Array.from({ length: count }, () => "U1"));
      expect(orderPlan.join(" | ")).toMatch(/USING INDEX (jobs_open|sqlite_autoindex_jobs_1)/);
      expect(orderPlan.join(" | ")).not.toMatch(/TEMP B-TREE|SCAN/);
    }
  }
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
  await store.retryJob(held(early), now, "kintone 503", { failed: true, now });
  const again = await store.claimJob(now, 60_000, ["webhook-event"]);
  expect(again?.refId).toBe("u1-early");
  expect(again?.firstFailedAt).toBe(now);
  await store.finishWebhookEvent(held(again), "u1-early", "done");
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
  const letter = await store.deadLetterJob(held(a), "unexpected: boom", 20);
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

it("a batch claim leases several ready jobs at once, never two of one user, and reads the claim index", async () => {
  store = openSqliteStore(":memory:");
  const batchPlan = plan(CLAIM_BATCH_SQL, "webhook-event", Date.now(), 4).join(" | ");
  expect(batchPlan).toMatch(/USING INDEX jobs_claim/);
  expect(batchPlan).not.toMatch(/TEMP B-TREE|SCAN jobs\b(?! USING)/);
  await store.storeWebhookEvents(
    [event("u1-b", "U1", 200), event("u1-a", "U1", 100), event("u2-a", "U2", 150), event("u3-a", "U3", 300), event("u2-b", "U2", 400)],
    10,
  );
  const first = await store.claimJobs(10, 60_000, ["webhook-event"], 10);
  // One job per user, each user's earliest; the rest wait for them.
  expect(first.map((job) => job.refId).sort()).toEqual(["u1-a", "u2-a", "u3-a"]);
  expect(await store.claimJobs(10, 60_000, ["webhook-event"], 10)).toEqual([]);
  const u1 = first.find((job) => job.refId === "u1-a");
  await store.finishWebhookEvent(held(u1), "u1-a", "user following");
  expect((await store.claimJobs(10, 60_000, ["webhook-event"], 10)).map((job) => job.refId)).toEqual(["u1-b"]);
  // A limit is kept; kinds other than the lane's are not taken.
  expect(await store.claimJobs(10, 60_000, ["delivery", "notification"], 10)).toEqual([]);
  expect(await store.claimJobs(10, 60_000, ["webhook-event"], 0)).toEqual([]);
});

it("an event's end commits its reply mark and the user's or group's state with it, and leaves the connection at FULL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "job-claims-"));
  // Its own store (a file: the durability levels apply), closed here before the folder goes.
  const store = openSqliteStore(dir);
  try {
    await store.storeWebhookEvents([event("f1", "U1", 100), event("j1", "C1", 100), event("x1", "U2", 100)], 10);
    const jobs = await store.claimJobs(10, 60_000, ["webhook-event"], 3);
    const jobOf = (id: string) => held(jobs.find((job) => job.refId === id));
    await store.finishWebhookEvent(jobOf("f1"), "f1", "user following", { replied: true, user: { userId: "U1", state: "following", at: 100 } });
    await store.finishWebhookEvent(jobOf("j1"), "j1", "group joined", { group: { groupId: "C1", kind: "group", state: "joined", at: 100 } });
    await store.finishWebhookEvent(jobOf("x1"), "x1", "ignored: not a link code");
    expect(await store.getWebhookEvent("f1")).toMatchObject({ state: "done", outcome: "user following", replied: true });
    expect(await store.getWebhookEvent("j1")).toMatchObject({ state: "done", outcome: "group joined", replied: false });
    expect(await store.getWebhookEvent("x1")).toMatchObject({ state: "done", replied: false });
    expect(store.db.prepare(`SELECT user_id, state, changed_at FROM line_users`).all()).toEqual([{ user_id: "U1", state: "following", changed_at: 100 }]);
    expect(await store.listGroups()).toEqual([{ groupId: "C1", kind: "group", state: "joined", changedAt: 100 }]);
    expect(store.db.prepare(`SELECT state FROM jobs WHERE id IN (?, ?, ?)`).pluck().all(jobOf("f1").id, jobOf("j1").id, jobOf("x1").id)).toEqual(["done", "done", "done"]);
    // An older state change does not overwrite a newer one (events may arrive out of order).
    await store.storeWebhookEvents([event("f0", "U1", 50)], 20);
    const [older] = await store.claimJobs(20, 60_000, ["webhook-event"], 1);
    await store.finishWebhookEvent(held(older), "f0", "user blocked", { user: { userId: "U1", state: "blocked", at: 50 } });
    expect(await store.isBlocked("U1")).toBe(false);
    // Bookkeeping commits with NORMAL; everything else this connection writes stays FULL (2).
    expect(store.db.pragma("synchronous", { simple: true })).toBe(2);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it("bookkeeping asked for in one turn commits together, and a piece that fails is rolled back and rejected alone", async () => {
  store = openSqliteStore(":memory:");
  await store.storeWebhookEvents([event("ok", "U1", 1), event("bad", "U2", 1)], 10);
  const jobs = await store.claimJobs(10, 60_000, ["webhook-event"], 2);
  const jobOf = (id: string) => held(jobs.find((job) => job.refId === id));
  const [ok, bad] = await Promise.allSettled([
    store.finishWebhookEvent(jobOf("ok"), "ok", "group joined", { group: { groupId: "C1", kind: "group", state: "joined", at: 1 } }),
    // line_groups.state is CHECKed: this piece fails after its event row was updated.
    store.finishWebhookEvent(jobOf("bad"), "bad", "group joined", { group: { groupId: "C2", kind: "group", state: "gone" as "joined", at: 1 } }),
  ]);
  expect(ok.status).toBe("fulfilled");
  expect(bad.status).toBe("rejected");
  expect(await store.getWebhookEvent("ok")).toMatchObject({ state: "done", outcome: "group joined" });
  expect(await store.getWebhookEvent("bad")).toMatchObject({ state: "pending", outcome: null });
  expect(store.db.prepare(`SELECT id, state FROM jobs ORDER BY id`).all()).toEqual(
    expect.arrayContaining([
      { id: jobOf("ok").id, state: "done" },
      { id: jobOf("bad").id, state: "running" },
    ]),
  );
  expect((await store.listGroups()).map((group) => group.groupId)).toEqual(["C1"]);
});

it("queueing and running 300 events of one busy group changes only the rows that must change (no user-wide recomputation per event)", async () => {
  store = openSqliteStore(":memory:");
  const changes = () => store.db.prepare("SELECT total_changes()").pluck().get() as number;
  const before = changes();
  for (let i = 0; i < 300; i++) await store.storeWebhookEvents([event(`G${i}`, "Cgroup", 1_000 + i)], 1);
  // Per event: its row, its job, and the job's own `ready` (trigger changes count in total_changes).
  expect(changes() - before).toBeLessThanOrEqual(3 * 300);
  expect(store.db.prepare("SELECT COUNT(*) FROM jobs WHERE ready = 1 AND state = 'pending'").pluck().get()).toBe(1);

  const ran: string[] = [];
  const beforeRun = changes();
  for (let now = 10_000; ran.length < 300; now++) {
    const [job] = await store.claimJobs(now, 60_000, ["webhook-event"], 5);
    if (!job) throw new Error(`nothing claimable after ${ran.length} events`);
    ran.push(job.refId);
    await store.finishJob(job);
  }
  expect(ran).toEqual(Array.from({ length: 300 }, (_, i) => `G${i}`));
  // Per event: its lease, its end, the next one readied (plus the claim's lapsed-lease sweep, which changes nothing here).
  expect(changes() - beforeRun).toBeLessThanOrEqual(3 * 300);
});
