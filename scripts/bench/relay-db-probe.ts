import Database from "better-sqlite3";
import pg from "pg";

/**
 * What the webhook benchmark reads from a relay's inbox (the webhook_events table) while the relay
 * runs, whichever store it keeps: how many events wait, how many were processed, which event ids
 * are stored (the kill -9 check) and how they ended. Read-only, over its own connection: the
 * relay is a separate process and is never asked.
 */
export interface RelayDbProbe {
  /** Events committed and not yet processed (state other than 'done'). */
  unfinished(): Promise<number>;
  /** Events processed (state 'done'). */
  done(): Promise<number>;
  /** Every event id in the inbox. */
  storedEventIds(): Promise<Set<string>>;
  /** The most frequent outcomes, most frequent first (null: not processed yet). */
  outcomes(limit: number): Promise<Array<{ outcome: string | null; n: number }>>;
  close(): Promise<void>;
}

/** The relay's SQLite file (RELAY_DATA_DIR/relay.sqlite), opened read-only: WAL lets it read beside the relay's writes. */
export function sqliteProbe(file: string): RelayDbProbe {
  const db = new Database(file, { readonly: true });
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  return {
    unfinished: async () => count("SELECT COUNT(*) FROM webhook_events WHERE state <> 'done'"),
    done: async () => count("SELECT COUNT(*) FROM webhook_events WHERE state = 'done'"),
    storedEventIds: async () => new Set(db.prepare("SELECT event_id FROM webhook_events").pluck().all() as string[]),
    outcomes: async (limit) => db.prepare("SELECT outcome, COUNT(*) AS n FROM webhook_events GROUP BY outcome ORDER BY n DESC LIMIT ?").all(limit) as Array<{ outcome: string | null; n: number }>,
    close: async () => void db.close(),
  };
}

/**
 * The relay's PostgreSQL database (its RELAY_DATABASE_URL), over one client of its own. The table
 * has SQLite's name and columns (relay/src/store/postgres/pg-schema.ts). COUNT(*) is a bigint,
 * which the driver hands over as a string.
 */
export async function postgresProbe(url: string): Promise<RelayDbProbe> {
  const client = new pg.Client({ connectionString: url });
  // A server stopped under it (a failed run's clean-up) must end the probe, not the benchmark.
  client.on("error", () => {});
  await client.connect();
  const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  return {
    unfinished: () => count("SELECT COUNT(*) AS n FROM webhook_events WHERE state <> 'done'"),
    done: () => count("SELECT COUNT(*) AS n FROM webhook_events WHERE state = 'done'"),
    storedEventIds: async () => new Set((await client.query<{ event_id: string }>("SELECT event_id FROM webhook_events")).rows.map((row) => row.event_id)),
    outcomes: async (limit) =>
      (await client.query<{ outcome: string | null; n: string }>("SELECT outcome, COUNT(*) AS n FROM webhook_events GROUP BY outcome ORDER BY n DESC LIMIT $1", [limit])).rows.map((row) => ({
        outcome: row.outcome,
        n: Number(row.n),
      })),
    close: () => client.end(),
  };
}
