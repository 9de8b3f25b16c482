import type Database from "better-sqlite3";

/**
 * One writer at a time between the main connection and the webhook inbox's writer thread, handed
 * over at once. SQLite lets only one connection write; the one that finds the database locked
 * goes to its busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25... ms before it looks again
 * (https://www.sqlite.org/c3ref/busy_timeout.html, sqliteDefaultBusyCallback): a commit of the
 * other connection lasts a fraction of a millisecond, so each collision cost the event loop (and
 * every webhook answer waiting behind it) milliseconds of sleep. This lock lives in shared
 * memory: a waiter blocks in Atomics.wait and is woken by the releaser's Atomics.notify the moment
 * the other commit ends.
 *
 * It only schedules: correctness still rests on SQLite's own locking (a holder that dies, or a
 * process of its own such as `npm run dead-letters`, falls back to the busy handler; a waiter
 * that does not get the lock within `timeoutMs` goes ahead without it).
 * The inbox writer's thread takes the same word with the same protocol (sqlite-inbox-writer.ts).
 */
export interface WriteLock {
  /** Shared with the inbox writer's thread. */
  readonly buffer: SharedArrayBuffer;
  /** Blocks until this thread holds the lock (true) or `timeoutMs` passed (false: go ahead without). */
  acquire(timeoutMs?: number): boolean;
  release(): void;
}

const FREE = 0;
const HELD = 1;

export function createWriteLock(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)): WriteLock {
  const word = new Int32Array(buffer);
  return {
    buffer,
    acquire(timeoutMs = 5_000) {
      const deadline = performance.now() + timeoutMs;
      while (Atomics.compareExchange(word, 0, FREE, HELD) !== FREE) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        Atomics.wait(word, 0, HELD, left);
      }
      return true;
    },
    release() {
      Atomics.store(word, 0, FREE);
      Atomics.notify(word, 0, 1);
    },
  };
}

/**
 * The same protocol for the worker threads' sources (plain JavaScript evaluated in the thread:
 * the inbox writer, the checkpointer): `takeWriteLock(word)` (true once held, false after 5 s),
 * `freeWriteLock(word)`; `word` is `new Int32Array(buffer)` or undefined (no lock: nothing to do).
 */
export const WRITE_LOCK_WORKER_SOURCE = `
function takeWriteLock(word) {
  if (!word) return false;
  const deadline = Date.now() + 5000;
  while (Atomics.compareExchange(word, 0, ${FREE}, ${HELD}) !== ${FREE}) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(word, 0, ${HELD}, left);
  }
  return true;
}
function freeWriteLock(word) {
  Atomics.store(word, 0, ${FREE});
  Atomics.notify(word, 0, 1);
}
`;

const locks = new WeakMap<Database.Database, WriteLock>();

/** The connection's writes take `lock` around each outermost transaction (sqlite-transactions.ts). */
export function guardWrites(db: Database.Database, lock: WriteLock): void {
  locks.set(db, lock);
}

export function writeLockOf(db: Database.Database): WriteLock | undefined {
  return locks.get(db);
}

/**
 * A prepared statement of a guarded connection: when it writes (better-sqlite3's `readonly` is
 * false: INSERT, UPDATE, DELETE, with or without RETURNING) and runs outside a transaction (an
 * autocommit write), it takes the connection's write lock for its run. Read-only statements and
 * unguarded connections are returned as they are.
 */
export function lockingWrites(db: Database.Database, statement: Database.Statement): Database.Statement {
  const lock = locks.get(db);
  if (!lock || statement.readonly) return statement;
  return new Proxy(statement, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property !== "run" && property !== "get" && property !== "all") return method.bind(target);
      return (...args: unknown[]) => {
        const held = !db.inTransaction && lock.acquire();
        try {
          return method.apply(target, args);
        } finally {
          if (held) lock.release();
        }
      };
    },
  });
}
