import type Database from "better-sqlite3";
import { writeLockOf } from "./sqlite-write-lock.js";

/**
 * Transactions on one connection without building them each time: better-sqlite3's
 * `db.transaction(fn)` makes a new wrapper (a function per BEGIN mode, each with its own
 * properties) on every call, which cost the worker more than the statements of a small
 * bookkeeping commit. One wrapper per connection takes the work as its argument instead. Nested
 * inside another transaction, `run` becomes a SAVEPOINT (better-sqlite3's rule), so a piece that
 * throws is rolled back alone.
 */
export interface SqliteTransactions {
  /** BEGIN (DEFERRED), or a savepoint inside a transaction. */
  run<T>(work: () => T): T;
  /** BEGIN IMMEDIATE: for transactions that read before they write. */
  immediate<T>(work: () => T): T;
}

const made = new WeakMap<Database.Database, SqliteTransactions>();

export function transactionsOf(db: Database.Database): SqliteTransactions {
  let transactions = made.get(db);
  if (!transactions) {
    const wrapper = db.transaction((work: () => unknown) => work());
    // The outermost transaction holds the connection's write lock, if it has one (sqlite-write-lock.ts).
    const locked = <T>(begin: () => T): T => {
      const lock = db.inTransaction ? undefined : writeLockOf(db);
      const held = lock?.acquire() ?? false;
      try {
        return begin();
      } finally {
        if (held) lock?.release();
      }
    };
    transactions = {
      run: <T>(work: () => T) => locked(() => wrapper(work) as T),
      immediate: <T>(work: () => T) => locked(() => wrapper.immediate(work) as T),
    };
    made.set(db, transactions);
  }
  return transactions;
}
