import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { join, resolve } from "node:path";
import { newId } from "../ids.js";
import { currentRequestId } from "../log-context.js";
import type {
  AppRulesRow,
  AcknowledgementKey,
  AcknowledgementRow,
  GroupRow,
  InboundEvent,
  JobCount,
  LinkCodeRow,
  PushReservation,
  PushUsage,
  WebhookEventRow,
  DeliveryPlan,
  DeliveryRow,
  EnqueueResult,
  DeadLetterRow,
  Job,
  JobKind,
  JobLease,
  KintoneWebhookReceipt,
  NotificationInput,
  NotificationRow,
  NotificationSource,
  ReminderPlan,
  NotificationState,
  NotifiedTransition,
  NotifiedTransitionClaim,
  RecipientOutcome,
  RelayStore,
  SkippedRecipient,
  StoreWritable,
  WebhookEventChanges,
} from "./relay-store.js";
import { LeaseLostError } from "./relay-store.js";
import { MIGRATIONS } from "./sqlite-schema.js";
import { registerRuleSetHash, ruleSetHash } from "./rule-set-hash.js";
import { startSqliteInboxWriter, type InboxWriter } from "./sqlite-inbox-writer.js";
import { transactionsOf } from "./sqlite-transactions.js";
import { WRITE_LOCK_WORKER_SOURCE, createWriteLock, guardWrites, lockingWrites } from "./sqlite-write-lock.js";
import { capAtLineLimitIn, pushUsageIn, releasePushIn, reservePushIn } from "./sqlite-push-budget.js";
import { SQLITE_USER_LINKS_PRUNE_STEPS, SqliteUserLinkStore } from "./sqlite-user-links.js";
import { SQLITE_APPROVALS_PRUNE_STEPS, SqliteApprovalStore } from "./sqlite-approvals.js";

/**
 * SQLite (WAL) in RELAY_DATA_DIR. better-sqlite3 is synchronous, so each method is one short
 * transaction on the event loop, except the webhook inbox (the hot path): its commits, fsync
 * included, are made by a worker thread with its own connection (sqlite-inbox-writer.ts).
 * ":memory:" keeps everything in-thread. Which commits wait for an fsync: see the pragma below.
 */
export function openSqliteStore(dataDir: string, options: { synchronous?: "FULL" | "NORMAL" } = {}): SqliteStore {
  let db: Database.Database | undefined;
  try {
    if (dataDir !== ":memory:") mkdirSync(dataDir, { recursive: true });
    db = new Database(dataDir === ":memory:" ? ":memory:" : join(dataDir, "relay.sqlite"));
    db.pragma("journal_mode = WAL");
    // Durability, commit by commit. FULL (the connection's level) fsyncs the WAL at each commit:
    // durable against power loss and OS crashes. It stays for everything an answer promised (the
    // inbox behind LINE's 200, on its writer thread; a 202 for a notification, a kintone webhook's
    // 200, rule sets, link codes, dead-letter retries) and for what gates an effect outside
    // (dispatchNotification fixes each delivery's retry key before it is pushed; an acknowledgement's
    // claim and its "commenting" mark come before kintone writes; a link code's claim).
    // The worker's own bookkeeping (job claims and retries, a webhook event's end with its reply mark
    // and user or group state) commits with NORMAL instead (`bookkeeping`): in WAL mode a NORMAL
    // commit survives a killed process (kill -9) like a FULL one, since the WAL is in the OS's
    // cache; only an OS crash or power cut can lose the last such commits, and never one without
    // those after it (the WAL is replayed up to its first missing frame; the next FULL commit, on
    // any connection, fsyncs them all). What a loss costs: the job runs again, and each of its
    // effects is idempotent: LINE takes a reply token once (a re-run's reply is refused as
    // "Invalid reply token", never a second message, so the reply mark needs no fsync), a push
    // keeps its retry key, an acknowledgement finds its durable claim, a state change is applied
    // only when newer. The main thread then no longer waits for an fsync per event.
    db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    registerRuleSetHash(db);
    migrate(db);
    // Outside the numbered migrations: a probe table, no data. The first probe write proves now,
    // not at the first webhook, that the database can be written (SQLite opens a file it may
    // only read without a word).
    db.exec(HEALTH_TABLE);
    db.prepare(HEALTH_PROBE).run(Date.now());
  } catch (error) {
    db?.close();
    throw new StoreOpenError(dataDir, error);
  }
  if (dataDir === ":memory:") return new SqliteStore(db);
  const file = join(dataDir, "relay.sqlite");
  // One writer at a time, handed over without the busy handler's sleeps (sqlite-write-lock.ts).
  const writeLock = createWriteLock();
  guardWrites(db, writeLock);
  const checkpointer = startCheckpointer(file, writeLock.buffer);
  db.pragma("wal_autocheckpoint = 0");
  // Started after the migrations: the writer prepares its statements against the final schema.
  const inbox = startSqliteInboxWriter(file, { synchronous: options.synchronous ?? "FULL", writeLock: writeLock.buffer });
  return new SqliteStore(db, checkpointer, inbox);
}

const HEALTH_TABLE = `CREATE TABLE IF NOT EXISTS store_health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL)`;
const HEALTH_PROBE = `INSERT INTO store_health (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;
/** How long a write check's answer is reused: /healthz may be asked every second by several monitors. */
const WRITE_CHECK_INTERVAL_MS = 2_000;

/** The data dir cannot hold the database: one line that says what, where and why, for the operator. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
  constructor(
    readonly dataDir: string,
    cause: unknown,
  ) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    const reason = typeof code === "string" ? openFailureReason(code) : undefined;
    const detail = (cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, " ");
    super(
      `RELAY_DATA_DIR ${dataDir === ":memory:" ? dataDir : resolve(dataDir)}: the relay cannot keep its database there: ` +
        `${reason ?? detail}${typeof code === "string" ? ` (${code})` : ""}. Point RELAY_DATA_DIR at a folder the relay may write to.`,
      { cause },
    );
  }
}

function openFailureReason(code: string): string | undefined {
  switch (code) {
    case "ENOTDIR":
    case "EEXIST":
      return "a part of the path is a file, not a folder";
    case "EACCES":
    case "EPERM":
    case "SQLITE_PERM":
    case "SQLITE_AUTH":
      return "permission denied";
    case "EROFS":
    case "SQLITE_READONLY":
    case "SQLITE_READONLY_DIRECTORY":
    case "SQLITE_READONLY_DBMOVED":
      return "it is read-only";
    case "ENOSPC":
    case "SQLITE_FULL":
      return "the disk is full";
    case "SQLITE_CANTOPEN":
    case "SQLITE_IOERR":
      return "the database file cannot be created or opened there";
    case "SQLITE_NOTADB":
    case "SQLITE_CORRUPT":
      return "relay.sqlite there is not a usable SQLite database";
    default:
      return undefined;
  }
}

/**
 * WAL checkpoints copy the log into the database file and fsync it: tens of milliseconds that,
 * done by the committing connection, would stall the event loop (and every webhook answer).
 * A second connection in a worker thread does them instead, every `intervalMs`.
 *
 * A PASSIVE checkpoint never makes the log start over while the workers commit without a pause:
 * each commit lands after what it copied, so the log grew by tens of MB a minute while a backlog
 * drained, and every read searched a longer WAL index. When more than `restartFrames` frames are
 * left after it, a RESTART follows: the frames PASSIVE copied are not copied again, so writers
 * wait only for the tail and one fsync, and the next commit writes the log from its start.
 */
function startCheckpointer(file: string, writeLock: SharedArrayBuffer, intervalMs = 1000, restartFrames = 4096): Worker {
  const worker = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
     const Database = require(workerData.driver);
     const db = new Database(workerData.file);
     db.pragma("busy_timeout = 5000");
     const word = workerData.writeLock ? new Int32Array(workerData.writeLock) : undefined;
     ${WRITE_LOCK_WORKER_SOURCE}
     const checkpoint = () => {
       const [passive] = db.pragma("wal_checkpoint(PASSIVE)");
       if (passive && passive.log > workerData.restartFrames) {
         // RESTART holds SQLite's write lock while it waits for readers: it takes the writers' lock first (sqlite-write-lock.ts).
         const held = takeWriteLock(word);
         try { db.pragma("wal_checkpoint(RESTART)"); } finally { if (held) freeWriteLock(word); }
       }
     };
     const timer = setInterval(() => { try { checkpoint(); } catch {} }, workerData.intervalMs);
     parentPort.on("message", () => { clearInterval(timer); try { db.pragma("wal_checkpoint(TRUNCATE)"); } catch {} db.close(); process.exit(0); });`,
    { eval: true, workerData: { file, writeLock, intervalMs, restartFrames, driver: createRequire(import.meta.url).resolve("better-sqlite3") } },
  );
  worker.unref();
  return worker;
}

/**
 * Every pending migration in one transaction: all of them or none, and one commit (one fsync)
 * instead of one per migration, which a fresh data dir's start-up waited for.
 */
function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current >= MIGRATIONS.length) return;
  db.transaction(() => {
    for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version] ?? "");
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

interface NotificationDbRow {
  id: string;
  app_id: string;
  record_id: string;
  action: string;
  status: string;
  next_status: string;
  /** From rule_set_contents, by rules_hash (NOTIFICATION_SELECT). */
  rules: string;
  state: NotificationState;
  detail: string | null;
  created_at: number;
  updated_at: number;
  source: NotificationSource;
  rules_version: number | null;
  rule_id: string | null;
  subject_date: string | null;
}

interface DeliveryDbRow {
  id: string;
  notification_id: string;
  app_id: string;
  record_id: string;
  rule_id: string;
  rule_name: string;
  method: "push" | "multicast";
  recipients: string;
  body: string;
  retry_key: string;
  buttons: string;
  state: "pending" | "sent" | "failed" | "capped";
  attempts: number;
  detail: string | null;
  created_at: number;
  updated_at: number;
}

const toNotification = (row: NotificationDbRow): NotificationRow => ({
  id: row.id,
  appId: row.app_id,
  recordId: row.record_id,
  action: row.action,
  status: row.status,
  nextStatus: row.next_status,
  rules: row.rules,
  state: row.state,
  detail: row.detail,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  source: row.source,
  rulesVersion: row.rules_version,
  ruleId: row.rule_id,
  subjectDate: row.subject_date,
});

const ALL_JOB_KINDS: readonly JobKind[] = ["webhook-event", "notification", "delivery"];

interface DeadLetterDbRow {
  id: string;
  job_id: string;
  kind: JobKind;
  ref_id: string;
  app_id: string | null;
  record_id: string | null;
  error: string;
  attempts: number;
  first_failed_at: number;
  dead_at: number;
  retried_at: number | null;
}

const toDeadLetter = (row: DeadLetterDbRow): DeadLetterRow => ({
  id: row.id,
  jobId: row.job_id,
  kind: row.kind,
  refId: row.ref_id,
  appId: row.app_id,
  recordId: row.record_id,
  error: row.error,
  attempts: row.attempts,
  firstFailedAt: row.first_failed_at,
  deadAt: row.dead_at,
  retriedAt: row.retried_at,
});

/**
 * Pruning, children before parents (foreign keys). Each step deletes at most `@limit` rows of what
 * finished before the cutoff `@before`; nothing pending, nothing an open dead letter needs.
 */
const PRUNE_STEPS: readonly string[] = [
  `DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters WHERE dead_at < @before LIMIT @limit)`,
  `DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs WHERE state = 'done' AND created_at < @before
     AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.job_id = jobs.id AND d.retried_at IS NULL) LIMIT @limit)`,
  `DELETE FROM acknowledgements WHERE rowid IN (SELECT rowid FROM acknowledgements WHERE state = 'written' AND tapped_at < @before LIMIT @limit)`,
  `DELETE FROM recipients WHERE rowid IN (SELECT r.rowid FROM notifications n JOIN recipients r ON r.notification_id = n.id
     WHERE n.created_at < @before AND n.state <> 'pending'
       AND (r.delivery_id IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = r.delivery_id AND d.state = 'pending'))
     LIMIT @limit)`,
  `DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries WHERE created_at < @before AND state <> 'pending'
     AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.delivery_id = deliveries.id)
     AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.delivery_id = deliveries.id)
     AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.ref_id = deliveries.id AND x.retried_at IS NULL) LIMIT @limit)`,
  // kintone resends a webhook within minutes: an old receipt's id guards nothing any more.
  `DELETE FROM kintone_webhooks WHERE rowid IN (SELECT rowid FROM kintone_webhooks WHERE received_at < @before LIMIT @limit)`,
  // The replay guard (notified_transitions: one row per app, record and rule) keeps the notification
  // it names, as a sent reminder (once per rule, record and date) keeps its own.
  `DELETE FROM notifications WHERE rowid IN (SELECT rowid FROM notifications WHERE created_at < @before AND state <> 'pending'
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM notified_transitions t WHERE t.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM kintone_webhooks k WHERE k.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM reminders_sent s WHERE s.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.ref_id = notifications.id AND x.retried_at IS NULL) LIMIT @limit)`,
  `DELETE FROM webhook_events WHERE rowid IN (SELECT rowid FROM webhook_events WHERE state = 'done' AND received_at < @before
     AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.ref_id = webhook_events.event_id AND x.retried_at IS NULL) LIMIT @limit)`,
  `DELETE FROM link_codes WHERE rowid IN (SELECT rowid FROM link_codes WHERE expires_at < @before LIMIT @limit)`,
  `DELETE FROM link_attempts WHERE rowid IN (SELECT rowid FROM link_attempts WHERE at < @before LIMIT @limit)`,
  // After the notifications: a rule set's text goes once no notification and no app version names it.
  `DELETE FROM rule_set_contents WHERE rowid IN (SELECT rowid FROM rule_set_contents c WHERE c.created_at < @before
     AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.rules_hash = c.hash)
     AND NOT EXISTS (SELECT 1 FROM app_rule_versions v WHERE v.hash = c.hash) LIMIT @limit)`,
  ...SQLITE_USER_LINKS_PRUNE_STEPS,
  ...SQLITE_APPROVALS_PRUNE_STEPS,
];

/** A notification with its rule set's text, kept once per content in rule_set_contents. */
const NOTIFICATION_SELECT = `SELECT n.*, c.rules FROM notifications n JOIN rule_set_contents c ON c.hash = n.rules_hash`;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const toDelivery = (row: DeliveryDbRow): DeliveryRow => ({
  id: row.id,
  notificationId: row.notification_id,
  appId: row.app_id,
  recordId: row.record_id,
  ruleId: row.rule_id,
  ruleName: row.rule_name,
  method: row.method,
  to: JSON.parse(row.recipients) as string[],
  body: row.body,
  retryKey: row.retry_key,
  buttons: row.buttons,
  state: row.state,
  attempts: row.attempts,
  detail: row.detail,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

interface ClaimDbRow {
  id: string;
  kind: JobKind;
  ref_id: string;
  attempts: number;
  created_at: number;
  first_failed_at: number | null;
  waiting_since: number | null;
  run_at: number;
  req_id: string | null;
}

/** Its terms match jobs_claim's WHERE, so SQLite reads that partial index in run_at order and stops at the first row. */
export const CLAIM_SQL = `SELECT id, kind, ref_id, attempts, created_at, first_failed_at, waiting_since, run_at, req_id FROM jobs
  WHERE kind = ? AND state = 'pending' AND ready = 1 AND run_at <= ? ORDER BY run_at LIMIT 1`;
/** CLAIM_SQL for the first `?` entries: the same index, read a few rows further. */
export const CLAIM_BATCH_SQL = CLAIM_SQL.replace(/LIMIT 1$/, "LIMIT ?");

/** Thrown inside the dispatch transaction to roll it back when the replay guard lost a race. */
class NotifiedTransitionConflict extends Error {
  override name = "NotifiedTransitionConflict";
}

export class SqliteStore implements RelayStore {
  constructor(
    readonly db: Database.Database,
    private readonly checkpointer?: Worker,
    /** Commits the webhook inbox off the event loop; absent for ":memory:". */
    readonly inbox?: InboxWriter,
  ) {
    // Lowered only from FULL (2), the level bookkeeping() restores; a store opened with NORMAL already is.
    this.relaxBookkeeping = !db.memory && db.pragma("synchronous", { simple: true }) === 2;
    this.userLinks = new SqliteUserLinkStore(db);
    this.approvals = new SqliteApprovalStore(db);
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A transaction on this connection (see sqlite-transactions.ts). */
  protected inTransaction<T>(work: () => T): T {
    return transactionsOf(this.db).run(work);
  }

  /** An IMMEDIATE transaction on this connection (see sqlite-transactions.ts). */
  protected inImmediateTransaction<T>(work: () => T): T {
    return transactionsOf(this.db).immediate(work);
  }
  private readonly relaxBookkeeping: boolean;
  readonly userLinks: SqliteUserLinkStore;
  readonly approvals: SqliteApprovalStore;

  /**
   * The worker's bookkeeping as one IMMEDIATE transaction committed with synchronous=NORMAL (why
   * that is enough: openSqliteStore); the connection's own level is restored before returning.
   * SQLite takes the level only between transactions, so it is set around this one.
   */
  protected bookkeeping<T>(work: () => T): T {
    if (!this.relaxBookkeeping) return this.inImmediateTransaction(work);
    this.sql("PRAGMA synchronous = NORMAL").run();
    try {
      return this.inImmediateTransaction(work);
    } finally {
      this.sql("PRAGMA synchronous = FULL").run();
    }
  }

  private grouped: Array<{ work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];

  /**
   * Group commit: bookkeeping asked for during one turn of the event loop (jobs ending together,
   * the next claims) commits in one transaction at the end of the turn; each caller's promise
   * settles after that commit. Each piece runs in its own savepoint, so one that fails is rolled
   * back and rejected alone. A commit costs far more than its few statements.
   */
  protected bookkeepingGrouped<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.grouped.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.grouped.length === 1) setImmediate(() => this.commitGrouped());
    });
  }

  private commitGrouped(): void {
    const pieces = this.grouped;
    if (pieces.length === 0) return;
    this.grouped = [];
    let outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
    try {
      outcomes = this.bookkeeping(() =>
        pieces.map((piece) => {
          try {
            return { ok: true as const, value: this.inTransaction(piece.work) };
          } catch (error) {
            return { ok: false as const, error };
          }
        }),
      );
    } catch (error) {
      for (const piece of pieces) piece.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => (outcome.ok ? pieces[i]?.resolve(outcome.value) : pieces[i]?.reject(outcome.error)));
  }

  /** Prepared once per SQL text: preparing is the expensive part of a small query. */
  protected sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = lockingWrites(this.db, this.db.prepare(text));
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** The job carries the request id of the work inserting it (a request, or the job whose run creates it). */
  protected insertJob(kind: JobKind, refId: string, runAt: number, orderKey: string | null = null): string {
    const id = newId("j");
    this.sql(
        `INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, order_key, created_at, req_id)
         VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
      )
      .run(id, kind, refId, runAt, orderKey, runAt, currentRequestId());
    return id;
  }

  /** Ends a job whose work an earlier run already finished (it died before marking the job). */
  async finishJob(job: JobLease): Promise<void> {
    await this.bookkeepingGrouped(() => this.completeJob(job));
  }

  /**
   * Forgets what finished before `before` (RELAY_RETENTION_DAYS), table by table, `batchSize`
   * rows per transaction with a turn of the event loop between them, so webhooks are answered
   * while a large backlog is pruned. Pending work, and what an open dead letter needs, stays.
   */
  async pruneFinished(before: number, batchSize = 500): Promise<number> {
    let removed = 0;
    for (const step of PRUNE_STEPS) {
      for (;;) {
        const changes = this.sql(step).run({ before, limit: batchSize }).changes;
        removed += changes;
        await yieldToEventLoop();
        if (changes < batchSize) break;
      }
    }
    return removed;
  }

  /**
   * Ends a job held under `job.lease`. Fencing: when the lease was lost (it lapsed and another
   * claim took the job), nothing changes and LeaseLostError rolls back the caller's transaction.
   */
  protected completeJob(job: JobLease): void {
    const changed = this.sql(`UPDATE jobs SET state = 'done', lease_until = NULL, lease_owner = NULL WHERE id = ? AND state = 'running' AND lease_owner = ?`)
      .run(job.id, job.lease).changes;
    if (changed !== 1) throw new LeaseLostError(job.id);
  }

  /** Fencing for a transaction that changes what the job works on before ending it. */
  protected assertHeld(job: JobLease): void {
    if (!this.sql(`SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?`).get(job.id, job.lease)) throw new LeaseLostError(job.id);
  }

  async enqueueNotification(input: NotificationInput, dedupKey: string, now: number): Promise<EnqueueResult> {
    // IMMEDIATE (here and in claimJob): the transaction reads before it writes, and the inbox
    // writer's connection commits concurrently. A deferred one would fail with SQLITE_BUSY when
    // upgrading its read to a write (SQLite cannot wait there); IMMEDIATE takes the write lock
    // first, waiting through busy_timeout for at most one inbox commit.
    return this.inImmediateTransaction((): EnqueueResult => {
      const existing = this.sql(`SELECT id FROM notifications WHERE dedup_key = ? AND state = 'pending'`)
        .get(dedupKey) as { id: string } | undefined;
      if (existing) return { id: existing.id, duplicate: true };
      return { id: this.insertNotification(input, dedupKey, now), duplicate: false };
    });
  }

  /** The notification row and its job; the caller holds the transaction. */
  protected insertNotification(input: NotificationInput, dedupKey: string, now: number): string {
    const id = newId("n");
    const rulesHash = ruleSetHash(input.rules);
    this.sql(`INSERT OR IGNORE INTO rule_set_contents (hash, rules, created_at) VALUES (?, ?, ?)`).run(rulesHash, input.rules, now);
    this.sql(
        `INSERT INTO notifications (id, dedup_key, app_id, record_id, action, status, next_status, rules_hash, state, created_at, updated_at,
                                    source, rules_version, rule_id, subject_date)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        dedupKey,
        input.appId,
        input.recordId,
        input.action,
        input.status,
        input.nextStatus,
        rulesHash,
        now,
        now,
        input.source ?? "plugin",
        input.rulesVersion ?? null,
        input.ruleId ?? null,
        input.subjectDate ?? null,
      );
    this.insertJob("notification", id, now);
    return id;
  }

  async getNotification(id: string): Promise<NotificationRow | undefined> {
    const row = this.sql(`${NOTIFICATION_SELECT} WHERE n.id = ?`).get(id) as NotificationDbRow | undefined;
    return row && toNotification(row);
  }

  async finishNotification(
    job: JobLease,
    id: string,
    state: Exclude<NotificationState, "pending" | "dispatched">,
    detail: string,
    now: number,
  ): Promise<void> {
    this.inTransaction(() => {
      this.sql(`UPDATE notifications SET state = ?, detail = ?, updated_at = ? WHERE id = ? AND state = 'pending'`)
        .run(state, detail, now, id);
      this.completeJob(job);
    });
  }

  async dispatchNotification(
    job: JobLease,
    id: string,
    deliveries: DeliveryPlan[],
    skipped: SkippedRecipient[],
    now: number,
    notified: NotifiedTransitionClaim[] = [],
  ): Promise<{ conflict: boolean }> {
    try {
      this.dispatchInTransaction(job, id, deliveries, skipped, now, notified);
      return { conflict: false };
    } catch (error) {
      if (error instanceof NotifiedTransitionConflict) return { conflict: true };
      throw error;
    }
  }

  private dispatchInTransaction(
    job: JobLease,
    id: string,
    deliveries: DeliveryPlan[],
    skipped: SkippedRecipient[],
    now: number,
    notified: NotifiedTransitionClaim[],
  ): void {
    this.inTransaction(() => {
      const changed = this.sql(`UPDATE notifications SET state = 'dispatched', detail = ?, updated_at = ? WHERE id = ? AND state = 'pending'`)
        .run(`${deliveries.length} deliveries, ${skipped.length} recipients skipped`, now, id).changes;
      this.completeJob(job);
      if (changed === 0) return;
      const notification = this.sql(`SELECT app_id, record_id FROM notifications WHERE id = ?`).get(id) as {
        app_id: string;
        record_id: string;
      };
      const insertDelivery = this.sql(
        `INSERT INTO deliveries (id, notification_id, app_id, record_id, rule_id, rule_name, method, recipients, body, retry_key, buttons, state, attempts, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      );
      const insertRecipient = this.sql(
        `INSERT OR IGNORE INTO recipients (notification_id, rule_id, recipient_id, delivery_id, state, detail)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const plan of deliveries) {
        insertDelivery.run(
          plan.id,
          id,
          notification.app_id,
          notification.record_id,
          plan.ruleId,
          plan.ruleName,
          plan.method,
          JSON.stringify(plan.to),
          plan.body,
          plan.retryKey,
          plan.buttons,
          now,
          now,
        );
        for (const to of plan.to) insertRecipient.run(id, plan.ruleId, to, plan.id, "pending", null);
        this.insertJob("delivery", plan.id, now);
      }
      for (const skip of skipped) insertRecipient.run(id, skip.ruleId, skip.recipientId, null, skip.state, skip.detail);
      // The replay guard, in this same transaction: the deliveries above and these rows commit
      // together or not at all, so a crash can neither push without remembering it (a replay
      // would push again) nor remember without the deliveries (the change would never be sent).
      // A claim that finds the row moved on since it was read (another notification for the same
      // record won the race) throws: everything above is rolled back and the job decides again.
      for (const claim of notified) {
        const recorded =
          claim.replaces === null
            ? this.sql(
                `INSERT OR IGNORE INTO notified_transitions (app_id, record_id, rule_id, revision, status, notification_id, notified_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)`,
              ).run(notification.app_id, notification.record_id, claim.ruleId, claim.revision, claim.status, id, now).changes
            : this.sql(
                `UPDATE notified_transitions SET revision = ?, status = ?, notification_id = ?, notified_at = ?
                 WHERE app_id = ? AND record_id = ? AND rule_id = ? AND revision = ?`,
              ).run(claim.revision, claim.status, id, now, notification.app_id, notification.record_id, claim.ruleId, claim.replaces).changes;
        if (recorded === 0) throw new NotifiedTransitionConflict();
      }
    });
  }

  async listNotifiedTransitions(appId: string, recordId: string): Promise<NotifiedTransition[]> {
    const rows = this.sql(
        `SELECT rule_id, revision, status, notification_id, notified_at FROM notified_transitions WHERE app_id = ? AND record_id = ?`,
      )
      .all(appId, recordId) as Array<{ rule_id: string; revision: number; status: string; notification_id: string; notified_at: number }>;
    return rows.map((row) => ({
      ruleId: row.rule_id,
      revision: row.revision,
      status: row.status,
      notificationId: row.notification_id,
      notifiedAt: row.notified_at,
    }));
  }

  async getDelivery(id: string): Promise<DeliveryRow | undefined> {
    const row = this.sql(`SELECT * FROM deliveries WHERE id = ?`).get(id) as DeliveryDbRow | undefined;
    return row && toDelivery(row);
  }

  async finishDelivery(job: JobLease, id: string, state: "sent" | "failed", detail: string | null, now: number): Promise<void> {
    this.inTransaction(() => {
      this.sql(`UPDATE deliveries SET state = ?, detail = ?, updated_at = ? WHERE id = ? AND state = 'pending'`)
        .run(state, detail, now, id);
      this.sql(`UPDATE recipients SET state = ?, detail = ? WHERE delivery_id = ? AND state = 'pending'`)
        .run(state, detail, id);
      if (state === "failed") releasePushIn((text) => this.sql(text), id);
      this.completeJob(job);
    });
  }

  async reservePush(job: JobLease, deliveryId: string, month: string, cap: number | null, now: number): Promise<PushReservation> {
    return this.db
      .transaction(() => {
        this.assertHeld(job);
        return reservePushIn((text) => this.sql(text), () => this.completeJob(job), deliveryId, month, cap, now);
      })
      .immediate();
  }

  async capDeliveryAtLineLimit(job: JobLease, deliveryId: string, month: string, detail: string, now: number): Promise<{ firstThisMonth: boolean }> {
    return this.db
      .transaction(() => {
        this.assertHeld(job);
        return capAtLineLimitIn((text) => this.sql(text), () => this.completeJob(job), deliveryId, month, detail, now);
      })
      .immediate();
  }

  async getPushUsage(month: string): Promise<PushUsage> {
    return pushUsageIn((text) => this.sql(text), month);
  }

  async listRecipientOutcomes(notificationId: string): Promise<RecipientOutcome[]> {
    const rows = this.sql(
        `SELECT rule_id, recipient_id, delivery_id, state, detail FROM recipients WHERE notification_id = ? ORDER BY rowid`,
      )
      .all(notificationId) as Array<{
      rule_id: string;
      recipient_id: string;
      delivery_id: string | null;
      state: RecipientOutcome["state"];
      detail: string | null;
    }>;
    return rows.map((row) => ({
      ruleId: row.rule_id,
      recipientId: row.recipient_id,
      deliveryId: row.delivery_id,
      state: row.state,
      detail: row.detail,
    }));
  }

  async listRecordDeliveries(appId: string, recordId: string): Promise<DeliveryRow[]> {
    const rows = this.sql(`SELECT * FROM deliveries WHERE app_id = ? AND record_id = ? ORDER BY created_at DESC, id DESC LIMIT 50`)
      .all(appId, recordId) as DeliveryDbRow[];
    return rows.map(toDelivery);
  }

  /** Reads notifications_app_recent backwards: one index range, whatever the table's size. */
  async listAppNotifications(appId: string, limit: number): Promise<NotificationRow[]> {
    const rows = this.sql(`${NOTIFICATION_SELECT} WHERE n.app_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?`).all(appId, limit) as NotificationDbRow[];
    return rows.map(toNotification);
  }

  /**
   * One index seek per kind (jobs_claim: pending and ready, by run_at); the earliest due wins.
   * A job with an order key is ready only while no earlier job with the same key is unfinished
   * (kept by triggers, sqlite-schema.ts), so events of one LINE user run one at a time, in
   * timestamp order.
   */
  async claimJob(now: number, leaseMs: number, kinds: readonly JobKind[] = ALL_JOB_KINDS): Promise<Job | undefined> {
    return (await this.claimJobs(now, leaseMs, kinds, 1))[0];
  }

  /**
   * claimJob for up to `limit` jobs in one transaction: the first `limit` entries of jobs_claim per
   * kind, merged by run_at. Ready jobs are the heads of their order keys, so taking several never
   * takes two events of one user.
   */
  async claimJobs(now: number, leaseMs: number, kinds: readonly JobKind[], limit: number): Promise<Job[]> {
    if (limit < 1) return [];
    return this.bookkeepingGrouped((): Job[] => {
      // A lease that lapsed (its worker stalled past it, or died without a restart) is due again.
      // Its holder's results are then refused (completeJob, assertHeld): a result lands once.
      this.sql(`UPDATE jobs SET state = 'pending', lease_until = NULL, lease_owner = NULL WHERE state = 'running' AND lease_until <= ?`).run(now);
      const due: ClaimDbRow[] = [];
      for (const kind of kinds) due.push(...(this.sql(CLAIM_BATCH_SQL).all(kind, now, limit) as ClaimDbRow[]));
      if (kinds.length > 1) due.sort((a, b) => a.run_at - b.run_at);
      const taken = due.slice(0, limit);
      const lease = this.sql(`UPDATE jobs SET state = 'running', lease_until = ?, lease_owner = ? WHERE id = ?`);
      const leases = taken.map(() => newId("l"));
      taken.forEach((row, i) => lease.run(now + leaseMs, leases[i], row.id));
      return taken.map((row, i) => ({
        id: row.id,
        lease: leases[i] ?? "",
        kind: row.kind,
        refId: row.ref_id,
        attempts: row.attempts,
        createdAt: row.created_at,
        firstFailedAt: row.first_failed_at,
        waitingSince: row.waiting_since,
        requestId: row.req_id,
      }));
    });
  }

  async retryJob(job: JobLease, runAt: number, note: string, outcome?: { failed: boolean; now: number }): Promise<void> {
    const changed = await this.bookkeepingGrouped(() =>
      outcome
        ? this.sql(
            `UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = @runAt, lease_until = NULL, lease_owner = NULL, note = @note,
               first_failed_at = CASE WHEN @failed THEN COALESCE(first_failed_at, @now) ELSE NULL END,
               waiting_since = CASE WHEN @failed THEN NULL ELSE COALESCE(waiting_since, @now) END
             WHERE id = @id AND state = 'running' AND lease_owner = @lease`,
          ).run({ runAt, note, failed: outcome.failed ? 1 : 0, now: outcome.now, id: job.id, lease: job.lease }).changes
        : this.sql(
            `UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = ?, lease_until = NULL, lease_owner = NULL, note = ?
             WHERE id = ? AND state = 'running' AND lease_owner = ?`,
          ).run(runAt, note, job.id, job.lease).changes,
    );
    if (changed !== 1) throw new LeaseLostError(job.id);
  }

  async extendLeases(jobs: readonly JobLease[], until: number): Promise<JobLease[]> {
    if (jobs.length === 0) return [];
    return this.bookkeepingGrouped(() => {
      const extend = this.sql(`UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND lease_owner = ?`);
      return jobs.filter((job) => extend.run(until, job.id, job.lease).changes !== 1);
    });
  }

  async nextDueIn(now: number): Promise<number | undefined> {
    const row = this.sql(`SELECT MIN(run_at) AS at FROM jobs WHERE state = 'pending' AND ready = 1`).get() as {
      at: number | null;
    };
    return row.at === null ? undefined : Math.max(0, row.at - now);
  }

  async countUnfinishedJobs(): Promise<number> {
    return (this.sql(`SELECT COUNT(*) AS n FROM jobs WHERE state <> 'done'`).get() as { n: number }).n;
  }

  async countJobsByState(): Promise<JobCount[]> {
    // Reads jobs_open (unfinished jobs only): a scrape costs what the queue holds, not the history.
    const rows = this.sql(`SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state <> 'done' GROUP BY kind, state`).all() as Array<{
      kind: JobKind;
      state: "pending" | "running";
      n: number;
    }>;
    return rows.map((row) => ({ kind: row.kind, state: row.state, count: row.n }));
  }

  async countOpenDeadLetters(): Promise<number> {
    return (this.sql(`SELECT COUNT(*) AS n FROM dead_letters WHERE retried_at IS NULL`).get() as { n: number }).n;
  }

  async deadLetterJob(lease: JobLease, error: string, now: number): Promise<DeadLetterRow> {
    return this.inImmediateTransaction((): DeadLetterRow => {
      this.assertHeld(lease);
      const jobId = lease.id;
      const job = this.sql(`SELECT id, kind, ref_id, attempts, first_failed_at FROM jobs WHERE id = ?`).get(jobId) as
        | { id: string; kind: JobKind; ref_id: string; attempts: number; first_failed_at: number | null }
        | undefined;
      if (!job) throw new Error(`no job ${jobId}`);
      let where: { app_id: string; record_id: string } | undefined;
      const detail = `gave up: ${error}`;
      if (job.kind === "delivery") {
        this.sql(`UPDATE deliveries SET state = 'failed', detail = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(detail, now, job.ref_id);
        this.sql(`UPDATE recipients SET state = 'failed', detail = ? WHERE delivery_id = ? AND state = 'pending'`).run(detail, job.ref_id);
        where = this.sql(`SELECT app_id, record_id FROM deliveries WHERE id = ?`).get(job.ref_id) as typeof where;
      } else if (job.kind === "notification") {
        this.sql(`UPDATE notifications SET state = 'failed', detail = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(detail, now, job.ref_id);
        where = this.sql(`SELECT app_id, record_id FROM notifications WHERE id = ?`).get(job.ref_id) as typeof where;
      } else {
        this.sql(`UPDATE webhook_events SET state = 'done', outcome = ? WHERE event_id = ? AND state = 'pending'`).run(detail, job.ref_id);
      }
      this.sql(`UPDATE jobs SET state = 'done', lease_until = NULL, lease_owner = NULL, attempts = attempts + 1, note = ? WHERE id = ?`).run(error, jobId);
      const row: DeadLetterDbRow = {
        id: newId("x"),
        job_id: job.id,
        kind: job.kind,
        ref_id: job.ref_id,
        app_id: where?.app_id ?? null,
        record_id: where?.record_id ?? null,
        error,
        attempts: job.attempts + 1,
        first_failed_at: job.first_failed_at ?? now,
        dead_at: now,
        retried_at: null,
      };
      this.sql(
        `INSERT INTO dead_letters (id, job_id, kind, ref_id, app_id, record_id, error, attempts, first_failed_at, dead_at, retried_at)
         VALUES (@id, @job_id, @kind, @ref_id, @app_id, @record_id, @error, @attempts, @first_failed_at, @dead_at, @retried_at)`,
      ).run(row);
      return toDeadLetter(row);
    });
  }

  async listDeadLetters(limit = 500): Promise<DeadLetterRow[]> {
    const rows = this.sql(`SELECT * FROM dead_letters WHERE retried_at IS NULL ORDER BY dead_at, id LIMIT ?`).all(limit) as DeadLetterDbRow[];
    return rows.map(toDeadLetter);
  }

  async getDeadLetter(id: string): Promise<DeadLetterRow | undefined> {
    const row = this.sql(`SELECT * FROM dead_letters WHERE id = ?`).get(id) as DeadLetterDbRow | undefined;
    return row && toDeadLetter(row);
  }

  async retryDeadLetter(
    id: string,
    now: number,
  ): Promise<{ ok: true; jobId: string } | { ok: false; reason: "not_found" | "already_retried" | "conflict" }> {
    return this.inImmediateTransaction(() => {
      const letter = this.sql(`SELECT * FROM dead_letters WHERE id = ?`).get(id) as DeadLetterDbRow | undefined;
      if (!letter) return { ok: false, reason: "not_found" } as const;
      if (letter.retried_at !== null) return { ok: false, reason: "already_retried" } as const;
      if (letter.kind === "delivery") {
        this.sql(`UPDATE deliveries SET state = 'pending', detail = NULL, updated_at = ? WHERE id = ?`).run(now, letter.ref_id);
        this.sql(`UPDATE recipients SET state = 'pending', detail = NULL WHERE delivery_id = ? AND state = 'failed'`).run(letter.ref_id);
      } else if (letter.kind === "notification") {
        const notification = this.sql(`SELECT dedup_key FROM notifications WHERE id = ?`).get(letter.ref_id) as { dedup_key: string } | undefined;
        const twin = notification && this.sql(`SELECT 1 FROM notifications WHERE dedup_key = ? AND state = 'pending'`).get(notification.dedup_key);
        if (twin) return { ok: false, reason: "conflict" } as const;
        this.sql(`UPDATE notifications SET state = 'pending', detail = NULL, updated_at = ? WHERE id = ?`).run(now, letter.ref_id);
      } else {
        this.sql(`UPDATE webhook_events SET state = 'pending', outcome = NULL WHERE event_id = ?`).run(letter.ref_id);
      }
      // The same job row again (pruning keeps it while the letter is open): its order key stays;
      // the give-up clock starts afresh.
      const changed = this.sql(
        `UPDATE jobs SET state = 'pending', run_at = ?, lease_until = NULL, first_failed_at = NULL WHERE id = ? AND state = 'done'`,
      ).run(now, letter.job_id).changes;
      const jobId = changed === 1 ? letter.job_id : this.insertJob(letter.kind, letter.ref_id, now);
      this.sql(`UPDATE dead_letters SET retried_at = ? WHERE id = ?`).run(now, id);
      return { ok: true, jobId } as const;
    });
  }

  /** One relay process per database file: whatever is running was left by a process that is gone. */
  async releaseOrphanedLeases(): Promise<number> {
    return this.sql(`UPDATE jobs SET state = 'pending', lease_until = NULL, lease_owner = NULL WHERE state = 'running'`).run().changes;
  }

  async storeWebhookEvents(events: InboundEvent[], now: number): Promise<{ stored: number; duplicates: number }> {
    // The writer thread when it runs (same SQL, its own connection); this connection otherwise
    // (":memory:", or the writer died: durability is the same, only the event loop waits).
    if (this.inbox?.available) return this.inbox.write(events, now);
    return this.inTransaction(() => {
      const insert = this.sql(
        `INSERT OR IGNORE INTO webhook_events (event_id, type, source_key, timestamp, received_at, redelivery, body)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const insertJob = this.sql(
        `INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, order_key, order_seq, created_at)
         VALUES (?, 'webhook-event', ?, 'pending', 0, ?, ?, ?, ?)`,
      );
      let stored = 0;
      for (const event of events) {
        const changes = insert.run(event.eventId, event.type, event.sourceKey, event.timestamp, now, event.redelivery ? 1 : 0, event.body).changes;
        if (changes === 0) continue;
        stored++;
        insertJob.run(newId("j"), event.eventId, now, event.sourceKey, event.timestamp, now);
      }
      return { stored, duplicates: events.length - stored };
    });
  }

  async getWebhookEvent(eventId: string): Promise<WebhookEventRow | undefined> {
    const row = this.sql(`SELECT * FROM webhook_events WHERE event_id = ?`).get(eventId) as
      | {
          event_id: string;
          type: string;
          source_key: string;
          timestamp: number;
          received_at: number;
          redelivery: number;
          body: string;
          state: "pending" | "done";
          outcome: string | null;
          replied: number;
        }
      | undefined;
    return (
      row && {
        eventId: row.event_id,
        type: row.type,
        sourceKey: row.source_key,
        timestamp: row.timestamp,
        receivedAt: row.received_at,
        redelivery: row.redelivery === 1,
        body: row.body,
        state: row.state,
        outcome: row.outcome,
        replied: row.replied === 1,
      }
    );
  }

  async finishWebhookEvent(job: JobLease, eventId: string, outcome: string, changes: WebhookEventChanges = {}): Promise<void> {
    await this.bookkeepingGrouped(() => {
      this.sql(`UPDATE webhook_events SET state = 'done', outcome = ?, replied = MAX(replied, ?) WHERE event_id = ?`)
        .run(outcome, changes.replied ? 1 : 0, eventId);
      if (changes.user) this.upsertUserState(changes.user.userId, changes.user.state, changes.user.at);
      if (changes.group) this.upsertGroupState(changes.group.groupId, changes.group.kind, changes.group.state, changes.group.at, changes.group.name);
      this.completeJob(job);
    });
  }

  async markReplied(eventId: string): Promise<void> {
    await this.bookkeepingGrouped(() => this.sql(`UPDATE webhook_events SET replied = 1 WHERE event_id = ?`).run(eventId));
  }

  async getAcknowledgement(key: AcknowledgementKey): Promise<AcknowledgementRow | undefined> {
    return this.readAcknowledgements(`delivery_id = ? AND user_id = ? AND button_id = ?`, [key.deliveryId, key.userId, key.buttonId])[0];
  }

  async claimAcknowledgement(key: AcknowledgementKey, eventId: string, tappedAt: number, effects: string) {
    return this.inTransaction(() => {
      const first =
        this.sql(
            `INSERT OR IGNORE INTO acknowledgements (delivery_id, user_id, button_id, event_id, tapped_at, state, effects)
             VALUES (?, ?, ?, ?, ?, 'writing', ?)`,
          )
          .run(key.deliveryId, key.userId, key.buttonId, eventId, tappedAt, effects).changes === 1;
      // A row claimed before effects were stored gets them now; one that has them keeps them.
      this.sql(`UPDATE acknowledgements SET effects = ? WHERE delivery_id = ? AND user_id = ? AND button_id = ? AND effects IS NULL`)
        .run(effects, key.deliveryId, key.userId, key.buttonId);
      const ack = this.readAcknowledgements(`delivery_id = ? AND user_id = ? AND button_id = ?`, [key.deliveryId, key.userId, key.buttonId])[0] as AcknowledgementRow;
      return { first, ack };
    });
  }

  async markAcknowledgementCommenting(key: AcknowledgementKey, now: number): Promise<void> {
    this.sql(
        `UPDATE acknowledgements SET state = 'commenting', commenting_at = ?
         WHERE delivery_id = ? AND user_id = ? AND button_id = ? AND state = 'writing'`,
      )
      .run(now, key.deliveryId, key.userId, key.buttonId);
  }

  async setAcknowledgementComment(key: AcknowledgementKey, commentId: string): Promise<void> {
    this.sql(`UPDATE acknowledgements SET comment_id = ? WHERE delivery_id = ? AND user_id = ? AND button_id = ?`)
      .run(commentId, key.deliveryId, key.userId, key.buttonId);
  }

  async listAcknowledgementCommentIds(appId: string, recordId: string): Promise<string[]> {
    const rows = this.sql(
        `SELECT a.comment_id FROM acknowledgements a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.app_id = ? AND d.record_id = ? AND a.comment_id IS NOT NULL`,
      )
      .all(appId, recordId) as Array<{ comment_id: string }>;
    return rows.map((row) => row.comment_id);
  }

  async completeAcknowledgement(key: AcknowledgementKey, displayName: string, now: number): Promise<void> {
    this.sql(
        `UPDATE acknowledgements SET state = 'written', display_name = ?, written_at = ?
         WHERE delivery_id = ? AND user_id = ? AND button_id = ?`,
      )
      .run(displayName, now, key.deliveryId, key.userId, key.buttonId);
  }

  async listAcknowledgements(deliveryIds: string[]): Promise<AcknowledgementRow[]> {
    if (deliveryIds.length === 0) return [];
    return this.readAcknowledgements(`delivery_id IN (${deliveryIds.map(() => "?").join(", ")})`, deliveryIds);
  }

  private readAcknowledgements(where: string, params: unknown[]): AcknowledgementRow[] {
    const rows = this.sql(`SELECT * FROM acknowledgements WHERE ${where} ORDER BY tapped_at`).all(...params) as Array<{
      delivery_id: string;
      user_id: string;
      button_id: string;
      event_id: string;
      display_name: string | null;
      tapped_at: number;
      state: "writing" | "commenting" | "written";
      written_at: number | null;
      effects: string | null;
      comment_id: string | null;
      commenting_at: number | null;
    }>;
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      userId: row.user_id,
      buttonId: row.button_id,
      eventId: row.event_id,
      displayName: row.display_name,
      tappedAt: row.tapped_at,
      state: row.state,
      writtenAt: row.written_at,
      effects: row.effects,
      commentId: row.comment_id,
      commentingAt: row.commenting_at,
    }));
  }

  async setUserState(userId: string, state: "following" | "blocked", at: number): Promise<void> {
    this.upsertUserState(userId, state, at);
  }

  private upsertUserState(userId: string, state: "following" | "blocked", at: number): void {
    this.sql(
        `INSERT INTO line_users (user_id, state, changed_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at
         WHERE excluded.changed_at >= line_users.changed_at`,
      )
      .run(userId, state, at);
  }

  async isBlocked(userId: string): Promise<boolean> {
    const row = this.sql(`SELECT state FROM line_users WHERE user_id = ?`).get(userId) as { state: string } | undefined;
    return row?.state === "blocked";
  }

  async setGroupState(groupId: string, kind: "group" | "room", state: "joined" | "left", at: number): Promise<void> {
    this.upsertGroupState(groupId, kind, state, at);
  }

  private upsertGroupState(groupId: string, kind: "group" | "room", state: "joined" | "left", at: number, name?: string): void {
    // A name is kept whichever event is newer: an older join's lookup still names the group.
    this.sql(
        `INSERT INTO line_groups (group_id, kind, state, changed_at, name) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET
           state = CASE WHEN excluded.changed_at >= line_groups.changed_at THEN excluded.state ELSE line_groups.state END,
           kind = excluded.kind,
           changed_at = MAX(excluded.changed_at, line_groups.changed_at),
           name = COALESCE(excluded.name, line_groups.name)`,
      )
      .run(groupId, kind, state, at, name ?? null);
  }

  async setGroupName(groupId: string, name: string): Promise<void> {
    this.sql(`UPDATE line_groups SET name = ? WHERE group_id = ?`).run(name, groupId);
  }

  async listGroups(): Promise<GroupRow[]> {
    const rows = this.sql(`SELECT * FROM line_groups ORDER BY changed_at DESC`).all() as Array<{
      group_id: string;
      kind: "group" | "room";
      state: "joined" | "left";
      changed_at: number;
      name: string | null;
    }>;
    return rows.map((row) => ({
      groupId: row.group_id,
      kind: row.kind,
      state: row.state,
      changedAt: row.changed_at,
      ...(row.name !== null ? { name: row.name } : {}),
    }));
  }

  async createLinkCode(row: Omit<LinkCodeRow, "usedBy">): Promise<void> {
    this.sql(`INSERT INTO link_codes (code, app_id, record_id, field, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(row.code, row.appId, row.recordId, row.field, row.createdAt, row.expiresAt);
  }

  async claimLinkCode(code: string, userId: string, eventId: string, now: number): Promise<LinkCodeRow | undefined> {
    return this.inTransaction(() => {
      // used_event: who holds it; used_at: when its write landed (spent). A holder whose event is
      // no longer pending ended without landing the write, so its claim has lapsed.
      const changed = this.sql(
          `UPDATE link_codes SET used_by = ?, used_event = ?
           WHERE code = ? AND (used_event = ? OR (used_at IS NULL AND expires_at > ? AND (used_event IS NULL OR NOT EXISTS (
             SELECT 1 FROM webhook_events WHERE webhook_events.event_id = link_codes.used_event AND webhook_events.state = 'pending'))))`,
        )
        .run(userId, eventId, code, eventId, now).changes;
      if (changed === 0) return undefined;
      const row = this.sql(`SELECT * FROM link_codes WHERE code = ?`).get(code) as {
        code: string;
        app_id: string;
        record_id: string;
        field: string;
        created_at: number;
        expires_at: number;
        used_by: string | null;
      };
      return {
        code: row.code,
        appId: row.app_id,
        recordId: row.record_id,
        field: row.field,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        usedBy: row.used_by,
      };
    });
  }

  async completeLinkCode(code: string, eventId: string, now: number): Promise<void> {
    this.sql(`UPDATE link_codes SET used_at = ? WHERE code = ? AND used_event = ? AND used_at IS NULL`).run(now, code, eventId);
  }

  async recordLinkMiss(userId: string, now: number, since: number): Promise<number> {
    this.sql(`INSERT INTO link_attempts (user_id, at) VALUES (?, ?)`).run(userId, now);
    return this.countLinkMisses(userId, since);
  }

  async countLinkMisses(userId: string, since: number): Promise<number> {
    return (this.sql(`SELECT COUNT(*) AS n FROM link_attempts WHERE user_id = ? AND at >= ?`).get(userId, since) as { n: number }).n;
  }

  async saveAppRules(appId: string, rules: string, now: number): Promise<{ version: number; changed: boolean }> {
    const hash = ruleSetHash(rules);
    return this.inImmediateTransaction(() => {
      const current = this.sql(`SELECT version, hash FROM app_rule_versions WHERE app_id = ? ORDER BY version DESC LIMIT 1`)
        .get(appId) as { version: number; hash: string } | undefined;
      if (current?.hash === hash) return { version: current.version, changed: false };
      this.sql(`INSERT OR IGNORE INTO rule_set_contents (hash, rules, created_at) VALUES (?, ?, ?)`).run(hash, rules, now);
      const version = (current?.version ?? 0) + 1;
      this.sql(`INSERT INTO app_rule_versions (app_id, version, hash, created_at) VALUES (?, ?, ?, ?)`).run(appId, version, hash, now);
      return { version, changed: true };
    });
  }

  async getAppRules(appId: string): Promise<AppRulesRow | undefined> {
    const row = this.sql(
      `SELECT v.version, v.created_at, c.rules FROM app_rule_versions v JOIN rule_set_contents c ON c.hash = v.hash
       WHERE v.app_id = ? ORDER BY v.version DESC LIMIT 1`,
    ).get(appId) as { version: number; created_at: number; rules: string } | undefined;
    return row && { appId, version: row.version, rules: row.rules, updatedAt: row.created_at };
  }

  async listAppRuleSets(): Promise<AppRulesRow[]> {
    const rows = this.sql(
      `SELECT v.app_id, v.version, v.created_at, c.rules FROM app_rule_versions v JOIN rule_set_contents c ON c.hash = v.hash
       WHERE v.version = (SELECT MAX(version) FROM app_rule_versions w WHERE w.app_id = v.app_id) ORDER BY v.app_id`,
    ).all() as Array<{ app_id: string; version: number; created_at: number; rules: string }>;
    return rows.map((row) => ({ appId: row.app_id, version: row.version, rules: row.rules, updatedAt: row.created_at }));
  }

  async findAppRulesVersion(appId: string, rules: string): Promise<number | undefined> {
    const hash = ruleSetHash(rules);
    const row = this.sql(`SELECT MAX(version) AS version FROM app_rule_versions WHERE app_id = ? AND hash = ?`).get(appId, hash) as {
      version: number | null;
    };
    return row.version ?? undefined;
  }

  async setNotificationRulesVersion(id: string, version: number): Promise<void> {
    this.sql(`UPDATE notifications SET rules_version = ? WHERE id = ?`).run(version, id);
  }

  async storeKintoneWebhook(
    receipt: KintoneWebhookReceipt,
    now: number,
    notification?: { input: NotificationInput; dedupKey: string },
  ): Promise<{ duplicate: boolean; notificationId?: string }> {
    return this.inImmediateTransaction((): { duplicate: boolean; notificationId?: string } => {
      const inserted = this.sql(
        `INSERT OR IGNORE INTO kintone_webhooks (id, type, app_id, record_id, body, received_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(receipt.id, receipt.type, receipt.appId, receipt.recordId, receipt.body, now, receipt.outcome).changes;
      if (inserted === 0) return { duplicate: true };
      if (!notification) return { duplicate: false };
      const pending = this.sql(`SELECT id FROM notifications WHERE dedup_key = ? AND state = 'pending'`).get(notification.dedupKey) as
        | { id: string }
        | undefined;
      const notificationId = pending?.id ?? this.insertNotification(notification.input, notification.dedupKey, now);
      this.sql(`UPDATE kintone_webhooks SET notification_id = ? WHERE id = ?`).run(notificationId, receipt.id);
      return { duplicate: false, notificationId };
    });
  }

  async recordStatusSeen(appId: string, recordId: string, revision: number, status: string, now: number): Promise<void> {
    this.sql(
      `INSERT INTO record_status_seen (app_id, record_id, revision, status, seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (app_id, record_id, revision) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at`,
    ).run(appId, recordId, revision, status, now);
  }

  async lastStatusSeenBefore(appId: string, recordId: string, revision: number): Promise<{ revision: number; status: string } | undefined> {
    return this.sql(
      `SELECT revision, status FROM record_status_seen WHERE app_id = ? AND record_id = ? AND revision < ? ORDER BY revision DESC LIMIT 1`,
    ).get(appId, recordId, revision) as { revision: number; status: string } | undefined;
  }

  async hasReminderRun(appId: string, ruleId: string, day: string): Promise<boolean> {
    return this.sql(`SELECT 1 FROM reminder_runs WHERE app_id = ? AND rule_id = ? AND day = ?`).get(appId, ruleId, day) !== undefined;
  }

  async claimReminderRun(
    appId: string,
    ruleId: string,
    day: string,
    reminders: ReminderPlan[],
    now: number,
  ): Promise<{ claimed: boolean; enqueued: number }> {
    return this.inImmediateTransaction((): { claimed: boolean; enqueued: number } => {
      const claimed = this.sql(`INSERT OR IGNORE INTO reminder_runs (app_id, rule_id, day, ran_at, enqueued) VALUES (?, ?, ?, ?, 0)`)
        .run(appId, ruleId, day, now).changes;
      if (claimed === 0) return { claimed: false, enqueued: 0 };
      let enqueued = 0;
      for (const reminder of reminders) {
        const seen = this.sql(`SELECT 1 FROM reminders_sent WHERE app_id = ? AND rule_id = ? AND record_id = ? AND date_value = ?`)
          .get(appId, ruleId, reminder.recordId, reminder.dateValue);
        if (seen) continue;
        const dedupKey = `reminder:${appId}:${ruleId}:${reminder.recordId}:${reminder.dateValue}`;
        const id = this.insertNotification(reminder.input, dedupKey, now);
        this.sql(`INSERT INTO reminders_sent (app_id, rule_id, record_id, date_value, notification_id) VALUES (?, ?, ?, ?, ?)`)
          .run(appId, ruleId, reminder.recordId, reminder.dateValue, id);
        enqueued++;
      }
      this.sql(`UPDATE reminder_runs SET enqueued = ? WHERE app_id = ? AND rule_id = ? AND day = ?`).run(enqueued, appId, ruleId, day);
      return { claimed: true, enqueued };
    });
  }

  private lastWriteCheck: { at: number; result: StoreWritable } | undefined;

  /** A one-row write, at most once every WRITE_CHECK_INTERVAL_MS; in between the last answer holds. */
  async checkWritable(): Promise<StoreWritable> {
    const now = Date.now();
    if (this.lastWriteCheck && now - this.lastWriteCheck.at < WRITE_CHECK_INTERVAL_MS) return this.lastWriteCheck.result;
    let result: StoreWritable;
    try {
      this.sql(HEALTH_PROBE).run(now);
      result = { ok: true };
    } catch (error) {
      result = { ok: false, message: `the store cannot write: ${(error as Error).message}` };
    }
    this.lastWriteCheck = { at: now, result };
    return result;
  }

  async close(): Promise<void> {
    // Bookkeeping waiting for the end of the turn, then the inbox writer: their commits finish before the final checkpoint.
    this.commitGrouped();
    await this.inbox?.close();
    this.db.close();
    if (this.checkpointer) {
      const exited = new Promise((resolve) => this.checkpointer?.once("exit", resolve));
      this.checkpointer.ref(); // unref'd while running: without this, an otherwise idle process exits mid-close
      this.checkpointer.postMessage("close");
      await exited;
    }
  }
}
