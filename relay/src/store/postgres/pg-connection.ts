import { createHash } from "node:crypto";
import pg from "pg";

/**
 * The PostgreSQL store's connections: a pool with its own type parsers, one transaction helper,
 * and the one error an operator reads when RELAY_DATABASE_URL cannot be used.
 */

/** What the store's queries run on: the pool (one statement, committed on its own) or a transaction's client. */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: string | Prepared, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * A statement each connection parses and plans once (a named prepared statement), for the hot
 * paths: planning their CTEs cost about a third of their time. Explicit columns only: a prepared
 * `SELECT *` fails once a migration (another instance's, in a rolling upgrade) adds a column.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

export function prepared(text: string): Prepared {
  return Object.freeze({ name: `relay_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`, text });
}

/** Sql over the pool or one client: a fresh query config per call (pg writes the values into the one it is given). */
export function sqlOn(target: pg.Pool | pg.PoolClient): Sql {
  return {
    query: <R extends pg.QueryResultRow>(statement: string | Prepared, values?: unknown[]) =>
      target.query<R>(typeof statement === "string" ? { text: statement, values } : { name: statement.name, text: statement.text, values }),
  };
}

export interface StoreLogger {
  warn(msg: string, fields?: object): void;
}

/**
 * BIGINT (epoch milliseconds, order_seq, COUNT(*)) and NUMERIC (SUM) as numbers, on this pool only:
 * pg's global parsers stay as they are for anyone else in the process. Every value the store keeps
 * in those types is far below 2^53.
 */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
export const NUMERIC_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if ((oid === INT8_OID || oid === NUMERIC_OID) && format !== "binary") return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** How long opening a connection may take before the pool gives up (a host that drops packets). */
export const CONNECT_TIMEOUT_MS = 10_000;

export function connectionConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    types: NUMERIC_TYPES,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: "kintone-line-relay",
    keepAlive: true,
  };
}

export function openPool(url: string, poolSize: number, logger?: StoreLogger): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(url), max: poolSize });
  // An idle connection the server closed (restart, failover) is reported here; without a listener
  // the process would crash. The pool drops it and opens another when needed.
  pool.on("error", (error) => logger?.warn("PostgreSQL connection lost while idle; the pool opens a new one", { error: error.message }));
  return pool;
}

export interface Transaction extends Sql {
  /** Sends NOTIFY with the commit: the transaction made a job due now (other instances wake up). */
  notifyJobsAvailable(): void;
}

export interface TransactionOptions {
  /**
   * The worker's bookkeeping (claims, retries, a finished event): committed without waiting for
   * the WAL flush (synchronous_commit = off). Why that is enough: PostgresStore.bookkeeping.
   */
  bookkeeping?: boolean;
}

/**
 * Advisory lock classes, taken as pg_advisory_xact_lock(class, hashtext(key)): the two-key form,
 * so they never meet the migration lock's one-key form. Arbitrary constants ("rel" + n).
 */
export const LOCK_CLASS = { channelToken: 0x72656c01, appRules: 0x72656c02, reminderRun: 0x72656c03 } as const;

/** The channel every instance of one database LISTENs on. */
export const JOBS_CHANNEL = "relay_jobs";

/**
 * BEGIN … COMMIT on one pooled client; ROLLBACK when `work` throws (its error is rethrown), and
 * the client goes back to the pool in every case (destroyed when even ROLLBACK failed: its
 * connection state is unknown). A NOTIFY asked for is sent with the COMMIT in one round trip;
 * PostgreSQL delivers it only if the commit succeeds.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  // Set when the connection's state is unknown (a lost connection, a failed ROLLBACK): it is
  // destroyed instead of going back to the pool.
  let unusable: Error | undefined;
  const unlessServerError = (error: unknown) => {
    if (!(error instanceof pg.DatabaseError)) unusable = error instanceof Error ? error : new Error(String(error));
  };
  try {
    await client.query(options.bookkeeping ? "BEGIN; SET LOCAL synchronous_commit = off" : "BEGIN").catch((error: unknown) => {
      unlessServerError(error);
      throw error;
    });
    let notify = false;
    const tx: Transaction = {
      ...sqlOn(client),
      notifyJobsAvailable: () => {
        notify = true;
      },
    };
    let result: T;
    try {
      result = await work(tx);
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        unusable = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    }
    // A COMMIT the server refuses (a deferred check) ends the transaction all the same.
    await client.query(notify ? `NOTIFY ${JOBS_CHANNEL}; COMMIT` : "COMMIT").catch((error: unknown) => {
      unlessServerError(error);
      throw error;
    });
    return result;
  } finally {
    client.release(unusable ?? false);
  }
}

/** The PostgreSQL error code (SQLSTATE) of an error, if it came from the server. */
export function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}

/** RELAY_DATABASE_URL cannot be used: one line saying where (never the password) and why. */
export class PostgresOpenError extends Error {
  override readonly name = "PostgresOpenError";
  constructor(url: string, cause: unknown) {
    super(`${describeTarget(url)}: the relay cannot use this PostgreSQL database: ${openFailureReason(url, cause)}`, { cause });
  }
}

/** "RELAY_DATABASE_URL (host db:5432, database relay)", from the URL without its credentials. */
export function describeTarget(url: string): string {
  const parsed = parseDatabaseUrl(url);
  if (!parsed) return "RELAY_DATABASE_URL";
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(the user's default)";
  const host = parsed.searchParams.get("host") ?? (parsed.hostname ? `${parsed.hostname}:${parsed.port || "5432"}` : "the default socket");
  return `RELAY_DATABASE_URL (host ${host}, database ${database})`;
}

export function parseDatabaseUrl(url: string): URL | undefined {
  try {
    // Cloud SQL's socket form names no host before the path (postgres://user:pass@/db?host=/cloudsql/…):
    // the driver reads it, WHATWG URL does not. The stand-in host is never shown: ?host= wins, as in the driver.
    const socketForm = /^postgres(?:ql)?:\/\/[^/@]*@\//.test(url);
    const parsed = new URL(socketForm ? url.replace("@/", "@socket/") : url);
    return parsed.protocol === "postgres:" || parsed.protocol === "postgresql:" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function openFailureReason(url: string, cause: unknown): string {
  if (!parseDatabaseUrl(url)) return "it is not a postgres://user:password@host:port/database URL";
  const code = (cause as { code?: unknown } | undefined)?.code;
  const message = withoutPassword(url, cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, " ");
  const known = typeof code === "string" ? KNOWN_REASONS[code] : undefined;
  if (known) return `${known} (${code}: ${message})`;
  if (/timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s (${message}): check the host, the port and any firewall between`;
  return typeof code === "string" ? `${message} (${code})` : message;
}

const KNOWN_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused: no PostgreSQL server listens at that host and port",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name cannot be resolved now (DNS)",
  ETIMEDOUT: "the connection timed out: check the host, the port and any firewall between",
  EHOSTUNREACH: "the host cannot be reached",
  ECONNRESET: "the server closed the connection (TLS required? try ?sslmode=require)",
  "28P01": "the password was refused for this user",
  "28000": "the server does not let this user connect from here (pg_hba.conf)",
  "3D000": "the database does not exist: create it first (CREATE DATABASE)",
  "42501": "permission denied: the user needs to create tables in the database's public schema",
  "53300": "the server has no connection left (max_connections)",
  "57P03": "the server is starting up or shutting down",
};

function withoutPassword(url: string, text: string): string {
  const password = parseDatabaseUrl(url)?.password;
  if (!password) return text;
  return text.split(password).join("***").split(decodeURIComponent(password)).join("***");
}
