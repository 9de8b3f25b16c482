import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { InboundEvent } from "./relay-store.js";
import { WRITE_LOCK_WORKER_SOURCE } from "./sqlite-write-lock.js";

/**
 * The webhook inbox's commits, made by a dedicated worker thread with its own better-sqlite3
 * connection (WAL, synchronous=FULL by default), so the fsync of each commit blocks that thread
 * and never the event loop. `write` resolves only after its transaction is committed (and
 * fsynced); the SQL is the same as SqliteStore.storeWebhookEvents: INSERT OR IGNORE on event_id,
 * one 'webhook-event' job per new event with order_key = source key, order_seq = timestamp.
 *
 * Writes are committed in the order they were handed over. The caller groups requests
 * (webhook/inbox-batcher.ts hands over a batch while collecting the next); the worker in turn
 * commits the writes that queued up during its previous commit in one transaction (one fsync).
 * The main connection's writes may wait for the write lock while an inbox commit runs: SQLite's
 * busy handler sleeps (busy_timeout), it does not spin, and a PASSIVE checkpoint never holds it.
 */
export interface InboxWriter {
  /**
   * Commits the events atomically (possibly in one transaction with other writes waiting at the
   * same time); resolves after the commit. Rejects when its transaction failed (nothing of it is
   * stored) or when the writer died (the commit may or may not have happened: a resend is
   * de-duplicated on event_id).
   */
  write(events: InboundEvent[], now: number): Promise<{ stored: number; duplicates: number }>;
  /** False once the worker is gone (crashed or closed): callers then commit on their own connection. */
  readonly available: boolean;
  /** Lets queued writes finish, then closes the worker's connection and ends the thread. */
  close(): Promise<void>;
}

export interface InboxWriterOptions {
  synchronous?: "FULL" | "NORMAL";
  /** How long the worker's connection waits for the write lock held by another connection. */
  busyTimeoutMs?: number;
  /** Commits between the writer's own PASSIVE checkpoints (see WORKER_SOURCE). */
  checkpointEvery?: number;
  /** The main connection's write lock (sqlite-write-lock.ts), taken around each commit. */
  writeLock?: SharedArrayBuffer;
}

/*
 * Plain CommonJS evaluated in the worker (workers cannot load .ts files under vitest or tsx's
 * loader): keep it small. Job ids follow relay/src/ids.ts (prefix, time in base36, 80 random
 * bits), drawn from a pooled randomBytes buffer.
 *
 * Each turn takes every write waiting in the port (up to MAX_GROUP) and commits them in ONE
 * transaction, then answers each; if that transaction fails, each write is retried alone, so
 * a failure rejects only the writes it belongs to. Every CHECKPOINT_EVERY commits, after the
 * answers are out, a PASSIVE checkpoint: it runs between two commits of this connection, so the
 * next commit can restart the WAL at its beginning (overwriting, not appending: a cheaper fsync)
 * instead of growing it for as long as the load lasts, which a checkpointer racing the commits
 * cannot achieve.
 */
const WORKER_SOURCE = `"use strict";
const { workerData, parentPort, receiveMessageOnPort } = require("node:worker_threads");
const { randomBytes } = require("node:crypto");
const Database = require(workerData.driver);
const MAX_GROUP = 64;
const CHECKPOINT_EVERY = Number(workerData.checkpointEvery);
const db = new Database(workerData.file);
db.pragma("busy_timeout = " + Number(workerData.busyTimeoutMs));
db.pragma("synchronous = " + (workerData.synchronous === "NORMAL" ? "NORMAL" : "FULL"));
if (db.pragma("synchronous", { simple: true }) !== (workerData.synchronous === "NORMAL" ? 1 : 2)) throw new Error("inbox writer: synchronous not set");
db.pragma("wal_autocheckpoint = 0");
if (String(db.pragma("journal_mode", { simple: true })).toLowerCase() !== "wal") throw new Error("inbox writer: database is not in WAL mode");
const insertEvent = db.prepare(
  "INSERT OR IGNORE INTO webhook_events (event_id, type, source_key, timestamp, received_at, redelivery, body) VALUES (?, ?, ?, ?, ?, ?, ?)");
const insertJob = db.prepare(
  "INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, order_key, order_seq, created_at) VALUES (?, 'webhook-event', ?, 'pending', 0, ?, ?, ?, ?)");
let pool = Buffer.alloc(0);
let offset = 0;
function jobId() {
  if (offset + 10 > pool.length) { pool = randomBytes(10 * 256); offset = 0; }
  const random = pool.toString("base64url", offset, offset + 10);
  offset += 10;
  return "j_" + Date.now().toString(36).padStart(9, "0") + random;
}
function store(write) {
  let stored = 0;
  for (const e of write.events) {
    if (insertEvent.run(e.eventId, e.type, e.sourceKey, e.timestamp, write.now, e.redelivery ? 1 : 0, e.body).changes === 0) continue;
    stored++;
    insertJob.run(jobId(), e.eventId, write.now, e.sourceKey, e.timestamp, write.now);
  }
  return stored;
}
const commitGroupUnlocked = db.transaction((writes) => writes.map(store));
// The write lock shared with the main connection (sqlite-write-lock.ts: same word, same protocol).
const word = workerData.writeLock ? new Int32Array(workerData.writeLock) : undefined;
${WRITE_LOCK_WORKER_SOURCE}
const commitGroup = {
  immediate(writes) {
    const held = takeWriteLock(word);
    try {
      return commitGroupUnlocked.immediate(writes);
    } finally {
      if (held) freeWriteLock(word);
    }
  },
};
const failure = (error) => ({ message: String(error && error.message), code: error && error.code });
let commits = 0;
function commit(writes) {
  try {
    const stored = commitGroup.immediate(writes);
    commits++;
    writes.forEach((write, i) => parentPort.postMessage({ id: write.id, stored: stored[i] }));
  } catch (error) {
    if (writes.length === 1) return parentPort.postMessage({ id: writes[0].id, error: failure(error) });
    for (const write of writes) commit([write]);
  }
}
let closing = false;
const receive = () => receiveMessageOnPort(parentPort)?.message;
parentPort.on("message", (first) => {
  let message = first;
  while (message && !closing) {
    const writes = [];
    for (; message; message = writes.length < MAX_GROUP ? receive() : undefined) {
      if (message.close) { closing = true; break; }
      writes.push(message);
    }
    if (writes.length > 0) commit(writes);
    if (closing) break;
    message = receive();
    // Between two commits of this connection, preferably while nothing waits; forced if the
    // load never pauses.
    if (CHECKPOINT_EVERY > 0 && ((!message && commits >= CHECKPOINT_EVERY) || commits >= 4 * CHECKPOINT_EVERY)) {
      commits = 0;
      try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
    }
  }
  if (closing) {
    db.close();
    parentPort.close();
  }
});
`;

type Reply =
  | { id: number; stored: number }
  | { id: number; error: { message: string; code?: string } };

interface Pending {
  count: number;
  resolve: (result: { stored: number; duplicates: number }) => void;
  reject: (error: Error) => void;
}

export class InboxWriteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "InboxWriteError";
  }
}

export function startSqliteInboxWriter(file: string, options: InboxWriterOptions = {}): InboxWriter {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      synchronous: options.synchronous ?? "FULL",
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      checkpointEvery: options.checkpointEvery ?? 100,
      writeLock: options.writeLock,
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
    },
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let alive = true;
  let closing: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));

  // Referenced only while a write is outstanding: an idle writer does not keep the process alive,
  // a pending one does (so an awaited write always settles).
  worker.unref();
  const settle = (id: number) => {
    const entry = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return entry;
  };
  const failAll = (error: Error) => {
    alive = false;
    for (const id of [...pending.keys()]) settle(id)?.reject(error);
  };

  worker.on("message", (reply: Reply) => {
    const entry = settle(reply.id);
    if (!entry) return;
    if ("error" in reply) entry.reject(new InboxWriteError(reply.error.message, reply.error.code));
    else entry.resolve({ stored: reply.stored, duplicates: entry.count - reply.stored });
  });
  worker.on("error", (error) => failAll(new InboxWriteError(`inbox writer failed: ${error.message}`)));
  worker.on("exit", (code) => {
    // A thread that died holding the write lock must not make every later write of the main
    // connection wait out the lock's timeout: the lock only schedules (sqlite-write-lock.ts), and
    // SQLite's own locking still stands for whatever else holds it now.
    if (options.writeLock) {
      const word = new Int32Array(options.writeLock);
      Atomics.store(word, 0, 0);
      Atomics.notify(word, 0);
    }
    failAll(new InboxWriteError(`inbox writer exited (code ${code}) before answering`));
  });

  return {
    get available() {
      return alive && !closing;
    },
    write(events, now) {
      if (!alive || closing) return Promise.reject(new InboxWriteError("inbox writer is not running"));
      return new Promise((resolve, reject) => {
        const id = nextId++;
        if (pending.size === 0) worker.ref();
        pending.set(id, { count: events.length, resolve, reject });
        worker.postMessage({ id, events, now });
      });
    },
    close() {
      if (!closing) {
        if (alive) {
          worker.ref();
          worker.postMessage({ close: true });
        }
        closing = exited;
      }
      return closing;
    },
  };
}
