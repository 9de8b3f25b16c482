import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newId } from "../../relay/src/ids.js";
import type { InboundEvent } from "../../relay/src/store/relay-store.js";
import { openSqliteStore, type SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { createInboxBatcher } from "../../relay/src/webhook/inbox-batcher.js";

const event = (id: string, user = "U1", timestamp = 1_000): InboundEvent => ({
  eventId: id,
  type: "postback",
  sourceKey: user,
  timestamp,
  redelivery: false,
  body: JSON.stringify({ webhookEventId: id, type: "postback", timestamp }),
});

const rows = (store: SqliteStore) => ({
  events: store.db.prepare(`SELECT event_id, source_key, timestamp, received_at FROM webhook_events ORDER BY event_id`).all() as Array<{
    event_id: string;
    source_key: string;
    timestamp: number;
    received_at: number;
  }>,
  jobs: store.db
    .prepare(`SELECT id, kind, ref_id, state, order_key, order_seq, run_at, created_at FROM jobs ORDER BY ref_id`)
    .all() as Array<{ id: string; kind: string; ref_id: string; state: string; order_key: string; order_seq: number; run_at: number; created_at: number }>,
});

describe("webhook inbox: writer thread behind the group-commit batcher", () => {
  let dir: string;
  let store: SqliteStore;
  let tick: number;
  const now = () => ++tick; // one call per commit: received_at tells the commits apart

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "inbox-writer-"));
    store = openSqliteStore(dir);
    tick = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits in the writer thread, not on the event loop's connection", async () => {
    expect(store.inbox?.available).toBe(true);
    await expect(store.storeWebhookEvents([event("e1"), event("e2")], 5)).resolves.toEqual({ stored: 2, duplicates: 0 });
    await expect(store.storeWebhookEvents([event("e2"), event("e3")], 6)).resolves.toEqual({ stored: 1, duplicates: 1 });
    expect(rows(store).events.map((row) => row.event_id)).toEqual(["e1", "e2", "e3"]);
  });

  it("commits the events of many concurrent requests exactly once, duplicates within and across batches ignored", async () => {
    const batcher = createInboxBatcher(store, now);
    // 200 requests at once, 3 events each, with repeats: inside one request (u0 twice), between
    // requests of the same batch (every id is sent by two requests), and across batches below.
    const request = (i: number) => [event(`u${i % 100}`, `U${i % 7}`, 1000 + (i % 100)), event(`v${i % 100}`, `U${i % 7}`, 2000 + (i % 100)), event("u0", "U0", 1000)];
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => batcher.add(request(i))));
    expect(new Set(first)).toEqual(new Set([200])); // all in one commit: 200 new events
    // The same events again (LINE resends), plus new ones, in concurrent requests.
    const second = await Promise.all([
      batcher.add([event("u5"), event("w1", "U9", 3000)]),
      batcher.add([event("w1", "U9", 3000), event("v7")]),
      batcher.add([event("w2", "U9", 3001)]),
    ]);
    expect(second).toEqual([2, 2, 2]);

    const { events, jobs } = rows(store);
    expect(events).toHaveLength(202);
    expect(new Set(events.map((row) => row.event_id)).size).toBe(202);
    expect(jobs).toHaveLength(202); // one job per stored event, none for a duplicate
    expect(jobs.map((job) => job.ref_id)).toEqual(events.map((row) => row.event_id));
    for (const job of jobs) {
      const stored = events.find((row) => row.event_id === job.ref_id);
      expect(job).toMatchObject({ kind: "webhook-event", state: "pending", order_key: stored?.source_key, order_seq: stored?.timestamp });
      expect(job.run_at).toBe(stored?.received_at);
      expect(job.created_at).toBe(stored?.received_at);
      // Same shape as relay/src/ids.ts: prefix, base36 time, 80 random bits.
      expect(job.id).toMatch(/^j_[0-9a-z]{9}[A-Za-z0-9_-]{14}$/);
      expect(job.id.length).toBe(newId("j").length);
    }
    expect(new Set(jobs.map((job) => job.id)).size).toBe(202);
  });

  it("collects the next batch while one is in flight, and answers each request after its own commit", async () => {
    const batcher = createInboxBatcher(store, now, { maxInFlight: 1 });
    const a = batcher.add([event("a")]);
    await new Promise((resolve) => setImmediate(resolve)); // batch 1 (a) is handed to the writer
    const settled: string[] = [];
    const b = batcher.add([event("b")]).then(() => settled.push("b"));
    const c = batcher.add([event("c")]).then(() => settled.push("c"));
    await a;
    expect(settled).toEqual([]); // a's commit does not answer b or c
    await Promise.all([b, c]);
    const receivedAt = Object.fromEntries(rows(store).events.map((row) => [row.event_id, row.received_at]));
    expect(receivedAt.b).toBe(receivedAt.c); // b and c shared the second commit
    expect(receivedAt.a).toBeLessThan(receivedAt.b as number);
  });

  it("a failed commit rejects that batch's requests, stores nothing of it, and the writer goes on", async () => {
    // A trigger that makes the writer's transaction fail on one event id.
    store.db.exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON webhook_events WHEN NEW.event_id = 'boom'
                   BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`);
    const batcher = createInboxBatcher(store, now, { maxInFlight: 1 });
    const ok = batcher.add([event("ok1")]);
    await new Promise((resolve) => setImmediate(resolve)); // ok1 commits alone
    const failing = [batcher.add([event("ok2")]), batcher.add([event("boom"), event("ok3")])]; // one batch
    await expect(ok).resolves.toBe(1);
    await expect(failing[0]).rejects.toThrow(/refused by test trigger/);
    await expect(failing[1]).rejects.toThrow(/refused by test trigger/);
    expect(rows(store).events.map((row) => row.event_id)).toEqual(["ok1"]);
    expect(rows(store).jobs).toHaveLength(1);

    // Still running: LINE's resend of ok2 is committed.
    await expect(batcher.add([event("ok2")])).resolves.toBe(1);
    expect(rows(store).events.map((row) => row.event_id)).toEqual(["ok1", "ok2"]);
  });

  it("writes handed over together are isolated: one failing write does not fail the others", async () => {
    store.db.exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON webhook_events WHEN NEW.event_id = 'boom'
                   BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`);
    // Direct writes (no batcher): the writer may group them into one transaction; the failing
    // one is then retried alone and only it is rejected.
    const results = await Promise.allSettled([
      store.storeWebhookEvents([event("x1")], 1),
      store.storeWebhookEvents([event("boom")], 1),
      store.storeWebhookEvents([event("x2")], 1),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(rows(store).events.map((row) => row.event_id)).toEqual(["x1", "x2"]);
  });

  it("main-connection transactions that read before writing do not fail while the writer commits", async () => {
    await store.storeWebhookEvents([event("warm-up")], 0); // the writer thread is running
    let writing = true;
    const writes = Promise.all(
      Array.from({ length: 2000 }, (_, i) => store.storeWebhookEvents([event(`e${i}`, `U${i}`, i)], i)),
    ).finally(() => (writing = false));
    // claimJob reads, then writes: while the writer commits it must wait for the write lock
    // (busy_timeout), never fail with SQLITE_BUSY as a deferred transaction would.
    let claimed = 0;
    while (writing) {
      if (await store.claimJob(Date.now() + 1_000_000, 60_000)) claimed++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writes;
    expect(claimed).toBeGreaterThan(0);
  });

  it("close() lets queued commits finish, then stops the writer", async () => {
    const pending = Array.from({ length: 50 }, (_, i) => store.storeWebhookEvents([event(`c${i}`)], 1));
    const closed = store.close();
    await expect(Promise.all(pending)).resolves.toHaveLength(50);
    await closed;
    expect(store.inbox?.available).toBe(false);
    const reopened = openSqliteStore(dir);
    try {
      expect(rows(reopened).events).toHaveLength(50);
    } finally {
      store = reopened; // afterEach closes it
    }
  });

  it("without the writer (stopped or crashed) the store commits on its own connection, same de-duplication", async () => {
    await store.storeWebhookEvents([event("before")], 1);
    await store.inbox?.close();
    expect(store.inbox?.available).toBe(false);
    await expect(store.storeWebhookEvents([event("before"), event("after")], 2)).resolves.toEqual({ stored: 1, duplicates: 1 });
    expect(rows(store).jobs.map((job) => job.ref_id)).toEqual(["after", "before"]);
  });

  it("the in-memory store keeps the in-thread path with the same results", async () => {
    const memory = openSqliteStore(":memory:");
    try {
      expect(memory.inbox).toBeUndefined();
      const batcher = createInboxBatcher(memory, now);
      const stored = await Promise.all([batcher.add([event("m1"), event("m1")]), batcher.add([event("m2")])]);
      expect(stored).toEqual([2, 2]);
      expect(rows(memory).jobs.map((job) => [job.ref_id, job.order_key, job.order_seq])).toEqual([
        ["m1", "U1", 1000],
        ["m2", "U1", 1000],
      ]);
    } finally {
      await memory.close();
    }
  });
});
