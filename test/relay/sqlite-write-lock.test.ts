import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../relay/src/store/relay-store.js";
import { openSqliteStore, type SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { writeLockOf } from "../../relay/src/store/sqlite-write-lock.js";

const event = (n: number): InboundEvent => ({
  eventId: `E${String(n).padStart(6, "0")}`,
  type: "follow",
  sourceKey: `U${n % 50}`,
  timestamp: n,
  redelivery: false,
  body: JSON.stringify({ type: "follow", n }),
});

/**
 * The main connection and the inbox writer's thread write the same database at once. With the
 * main connection's busy handler off (busy_timeout = 0), any write of it that met the writer's
 * commit would fail at once with "database is locked": with the shared write lock, none does,
 * because each waits for the other commit to end instead of meeting it.
 */
describe("SQLite write lock between the main connection and the inbox writer", () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "write-lock-"));
    store = openSqliteStore(dir);
    store.db.pragma("busy_timeout = 0");
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const contend = async () => {
    const failures: string[] = [];
    // The writer thread: 400 commits of 5 events each, as fast as it takes them.
    const inbox = Promise.all(Array.from({ length: 400 }, (_, i) => store.storeWebhookEvents([0, 1, 2, 3, 4].map((k) => event(i * 5 + k)), 1_000 + i)));
    // Meanwhile on the main thread: autocommit writes and IMMEDIATE transactions, interleaved.
    for (let i = 0; i < 400; i++) {
      try {
        await store.recordStatusSeen("1", String(i), i, "Approved", 2_000 + i);
        await store.claimJobs(3_000 + i, 30_000, ["webhook-event"], 2);
      } catch (error) {
        failures.push((error as Error).message);
      }
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await inbox;
    return failures;
  };

  it("no write of the main connection meets a commit of the writer thread: nothing fails, everything is stored", async () => {
    const failures = await contend();
    expect(failures).toEqual([]);
    expect(store.db.prepare("SELECT COUNT(*) FROM webhook_events").pluck().get()).toBe(2_000);
    expect(store.db.prepare("SELECT COUNT(*) FROM record_status_seen").pluck().get()).toBe(400);
    expect(store.db.prepare("SELECT COUNT(*) FROM jobs WHERE kind = 'webhook-event'").pluck().get()).toBe(2_000);
  });

  /**
   * Another thread of the process takes the write lock (the protocol of sqlite-write-lock.ts) and
   * holds SQLite's write lock for 300 ms on its own connection, as a long inbox commit would.
   */
  const holdFromAnotherThread = (lock: SharedArrayBuffer | undefined) => {
    const worker = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads");
       const Database = require(workerData.driver);
       const db = new Database(workerData.file);
       const word = workerData.lock ? new Int32Array(workerData.lock) : undefined;
       if (word) while (Atomics.compareExchange(word, 0, 0, 1) !== 0) Atomics.wait(word, 0, 1, 50);
       db.exec("BEGIN IMMEDIATE");
       db.prepare("INSERT INTO store_health (id, checked_at) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET checked_at = 1").run();
       parentPort.postMessage("holding");
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec("COMMIT");
       const releasedAt = performance.timeOrigin + performance.now();
       if (word) { Atomics.store(word, 0, 0); Atomics.notify(word, 0, 1); }
       db.close();
       parentPort.postMessage({ releasedAt });`,
      { eval: true, workerData: { file: join(dir, "relay.sqlite"), lock, driver: createRequire(import.meta.url).resolve("better-sqlite3") } },
    );
    // When the other thread's commit ended, by its own clock (absolute time): a slow message cannot skew it.
    const released = new Promise<number>((resolve) =>
      worker.on("message", (m: unknown) => typeof m === "object" && m !== null && "releasedAt" in m && resolve(Number(m.releasedAt))),
    );
    const holding = new Promise<void>((resolve) => worker.on("message", (m) => m === "holding" && resolve()));
    return { holding, released };
  };

  it("a write of the main connection waits for the other thread's commit and then succeeds", async () => {
    const other = holdFromAnotherThread(writeLockOf(store.db)?.buffer);
    await other.holding;
    await store.recordStatusSeen("1", "7", 3, "Approved", 2_000);
    const wroteAt = performance.timeOrigin + performance.now();
    const releasedAt = await other.released;
    expect(wroteAt).toBeGreaterThanOrEqual(releasedAt - 1); // 1 ms for the two threads' clocks; the hold is 300 ms
    expect(store.db.prepare("SELECT status FROM record_status_seen WHERE record_id = '7'").pluck().get()).toBe("Approved");
  });

  it("(control) a thread that does not take the lock is met at once: SQLite refuses the main connection's write", async () => {
    const other = holdFromAnotherThread(undefined);
    await other.holding;
    await expect(store.recordStatusSeen("1", "7", 3, "Approved", 2_000)).rejects.toThrow(/database is locked/);
    await other.released;
  });

  it("a writer thread that ends while the lock is held leaves it free: later writes do not wait out its timeout", async () => {
    const lock = writeLockOf(store.db);
    expect(lock?.acquire(0)).toBe(true); // held, as by a thread that then dies
    await store.inbox?.close();
    expect(lock?.acquire(0)).toBe(true);
    lock?.release();
  });
});
