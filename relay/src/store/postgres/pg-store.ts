import type pg from "pg";
import { ruleSetHash } from "../rule-set-hash.js";
import {
  LeaseLostError,
  type AcknowledgementKey,
  type AcknowledgementRow,
  type AppRulesRow,
  type DeadLetterRow,
  type DeliveryPlan,
  type DeliveryRow,
  type EnqueueResult,
  type GroupRow,
  type InboundEvent,
  type Job,
  type JobCount,
  type JobKind,
  type JobLease,
  type KintoneWebhookReceipt,
  type LinkCodeRow,
  type NotificationInput,
  type NotificationRow,
  type NotificationState,
  type NotifiedTransition,
  type NotifiedTransitionClaim,
  type PushReservation,
  type PushUsage,
  type RecipientOutcome,
  type RelayStore,
  type ReminderPlan,
  type SharedChannelToken,
  type SkippedRecipient,
  type StoreWritable,
  type WebhookEventChanges,
  type WebhookEventRow,
} from "../relay-store.js";
import {
  LOCK_CLASS,
  PostgresOpenError,
  inTransaction,
  openPool,
  prepared,
  sqlOn,
  sqlState,
  type Sql,
  type StoreLogger,
  type Transaction,
  type TransactionOptions,
} from "./pg-connection.js";
import {
  ALL_JOB_KINDS,
  claimDueJobs,
  completeLeasedJob,
  countByState,
  countUnfinished,
  extendHeldLeases,
  BOOKKEEPING_CTE,
  holdLease,
  nextDueAt,
  rescheduleLeasedJob,
} from "./pg-jobs.js";
import { JobsListener } from "./pg-listener.js";
import {
  DeadLetterRetryRefused,
  DEAD_LETTER_COLUMNS,
  DELIVERY_COLUMNS,
  NOTIFICATION_SELECT,
  NotifiedTransitionConflict,
  deadLetterIn,
  dispatchIn,
  insertPendingNotification,
  retryDeadLetterIn,
  toDeadLetter,
  toDelivery,
  toNotification,
  type DeadLetterDbRow,
  type DeliveryDbRow,
  type NotificationDbRow,
} from "./pg-notifications.js";
import {
  ACK_KEY,
  ackKey,
  claimAcknowledgementIn,
  claimLinkCodeIn,
  finishWebhookEventIn,
  getWebhookEventIn,
  listGroupsIn,
  readAcknowledgements,
  storeWebhookEventsIn,
  upsertGroupState,
  upsertUserState,
} from "./pg-line-side.js";
import { pruneIn } from "./pg-prune.js";
import { capAtLineLimitIn, pushUsageIn, releasePushIn, reservePushIn } from "./pg-push-budget.js";
import { migratePostgres } from "./pg-schema.js";
import { PostgresUserLinkStore } from "./pg-user-links.js";
import { PostgresApprovalStore } from "./pg-approvals.js";

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10); one more is kept for LISTEN. */
  poolSize?: number;
  logger?: StoreLogger;
}

/**
 * Opens the store on RELAY_DATABASE_URL: connects, applies the migrations not yet applied (safe
 * when several instances start at once) and starts listening for other instances' jobs. Throws
 * PostgresOpenError, naming the host and database (never the password) and why, when it cannot.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  let pool: pg.Pool | undefined;
  let listener: JobsListener | undefined;
  try {
    pool = openPool(url, options.poolSize ?? 10, options.logger);
    await migratePostgres(pool, Date.now());
    await pool.query(HEALTH_PROBE, [Date.now()]);
    listener = new JobsListener(url, options.logger);
    await listener.start();
    return new PostgresStore(pool, listener);
  } catch (error) {
    await listener?.close();
    await pool?.end().catch(() => undefined);
    throw new PostgresOpenError(url, error);
  }
}

/**
 * A CTE ending job $1 held under lease $2, for a statement that ends the job with its work: the
 * statement's other CTEs change rows only when `done` has its row, and a lost lease changes nothing.
 * Only for notification and delivery jobs, which have no order key: ending an ordered job (a
 * webhook event) readies the next one in a second statement (pg-jobs.ts).
 */
const FENCED_END = `done AS (
  UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL WHERE id = $1 AND state = 'running' AND lease_token = $2
  RETURNING id)`;

const FINISH_NOTIFICATION = prepared(
  `WITH ${FENCED_END}, notification AS (
     UPDATE notifications SET state = $3, detail = $4, updated_at = $5 WHERE id = $6 AND state = 'pending' AND EXISTS (SELECT 1 FROM done)
   )
   SELECT COUNT(*) AS n FROM done`,
);
const FINISH_DELIVERY = prepared(
  `WITH ${FENCED_END}, delivery AS (
     UPDATE deliveries SET state = $3, detail = $4, updated_at = $5 WHERE id = $6 AND state = 'pending' AND EXISTS (SELECT 1 FROM done)
   ), recipients AS (
     UPDATE recipients SET state = $3, detail = $4 WHERE delivery_id = $6 AND state = 'pending' AND EXISTS (SELECT 1 FROM done)
   )
   SELECT COUNT(*) AS n FROM done`,
);
const GET_NOTIFICATION = prepared(`${NOTIFICATION_SELECT} WHERE n.id = $1`);
const GET_DELIVERY = prepared(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`);
const MARK_REPLIED = prepared(`WITH ${BOOKKEEPING_CTE} UPDATE webhook_events SET replied = true FROM bookkeeping WHERE event_id = $1`);
const IS_BLOCKED = prepared(`SELECT state FROM line_users WHERE user_id = $1`);

const HEALTH_PROBE = `INSERT INTO store_health (id, checked_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;
/** How long a write check's answer is reused: /healthz may be asked every second by several monitors. */
const WRITE_CHECK_INTERVAL_MS = 2_000;
const WRITE_CHECK_TIMEOUT_MS = 3_000;

/**
 * The relay's store on PostgreSQL, shared by several relay instances (the same RelayStore
 * contract as SqliteStore, whose methods each of these reproduces). Every method that changes
 * state commits before it resolves; a method that touches several rows does it in one transaction.
 */
export class PostgresStore implements RelayStore {
  constructor(
    readonly pool: pg.Pool,
    private readonly listener: JobsListener,
  ) {
    this.sql = sqlOn(pool);
    this.userLinks = new PostgresUserLinkStore(pool);
    this.approvals = new PostgresApprovalStore(pool);
  }

  readonly userLinks: PostgresUserLinkStore;
  readonly approvals: PostgresApprovalStore;

  private transaction<T>(work: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return inTransaction(this.pool, work, options);
  }

  /**
   * The worker's own bookkeeping (claims, retries, lease extensions, a webhook event's end with its
   * reply mark and user or group state, a job finished by an earlier run) commits with
   * synchronous_commit = off (here, or per statement through BOOKKEEPING_CTE), where SqliteStore
   * uses its NORMAL connection: the commit returns
   * before the WAL is flushed. A killed relay process loses nothing (the server has the commit);
   * only a crash of the database server (or its machine) within about 3 × wal_writer_delay can
   * lose the last such commits, in commit order, never one without those before it, and the next
   * synchronous commit of any session flushes them all. What a loss costs: the job runs again,
   * and each of its effects is idempotent: LINE takes a reply token once, a push keeps its retry
   * key, an acknowledgement finds its durable claim, a state change is applied only when newer.
   * Everything an answer promised (the inbox behind LINE's 200, a 202 for a notification, rule
   * sets, link codes, dead-letter retries) and what gates an effect outside (dispatch, push
   * reservations, acknowledgement claims) keeps the default, synchronous commit.
   */
  private bookkeeping<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work, { bookkeeping: true });
  }

  /** Statements committed on their own, on any pooled connection. */
  private readonly sql: Sql;

  async enqueueNotification(input: NotificationInput, dedupKey: string, now: number): Promise<EnqueueResult> {
    return insertPendingNotification(this.sql, input, dedupKey, now);
  }

  async getNotification(id: string): Promise<NotificationRow | undefined> {
    const { rows } = await this.sql.query<NotificationDbRow>(GET_NOTIFICATION, [id]);
    return rows[0] && toNotification(rows[0]);
  }

  /** One statement: the job's end (fenced) and the notification's, or neither. A notification job has no order key. */
  async finishNotification(job: JobLease, id: string, state: Exclude<NotificationState, "pending" | "dispatched">, detail: string, now: number): Promise<void> {
    const { rows } = await this.sql.query<{ n: number }>(FINISH_NOTIFICATION, [job.id, job.lease, state, detail, now, id]);
    if (rows[0]?.n !== 1) throw new LeaseLostError(job.id);
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
      await this.transaction(async (tx) => {
        if (await dispatchIn(tx, job, id, deliveries, skipped, now, notified)) tx.notifyJobsAvailable();
      });
      return { conflict: false };
    } catch (error) {
      if (error instanceof NotifiedTransitionConflict) return { conflict: true };
      throw error;
    }
  }

  async listNotifiedTransitions(appId: string, recordId: string): Promise<NotifiedTransition[]> {
    const { rows } = await this.sql.query<{ rule_id: string; revision: number; status: string; notification_id: string; notified_at: number }>(
      `SELECT rule_id, revision, status, notification_id, notified_at FROM notified_transitions WHERE app_id = $1 AND record_id = $2 ORDER BY rule_id`,
      [appId, recordId],
    );
    return rows.map((row) => ({
      ruleId: row.rule_id,
      revision: row.revision,
      status: row.status,
      notificationId: row.notification_id,
      notifiedAt: row.notified_at,
    }));
  }

  async getDelivery(id: string): Promise<DeliveryRow | undefined> {
    const { rows } = await this.sql.query<DeliveryDbRow>(GET_DELIVERY, [id]);
    return rows[0] && toDelivery(rows[0]);
  }

  async reservePush(job: JobLease, deliveryId: string, month: string, cap: number | null, now: number): Promise<PushReservation> {
    return this.transaction((tx) => reservePushIn(tx, job, deliveryId, month, cap, now));
  }

  async capDeliveryAtLineLimit(job: JobLease, deliveryId: string, month: string, detail: string, now: number): Promise<{ firstThisMonth: boolean }> {
    return this.transaction(async (tx) => {
      await holdLease(tx, job);
      return capAtLineLimitIn(tx, job.id, deliveryId, month, detail, now);
    });
  }

  async getPushUsage(month: string): Promise<PushUsage> {
    return pushUsageIn(this.sql, month);
  }

  /**
   * Sent: one statement, the job's end (fenced) with the delivery's and its recipients', or none
   * of them (a delivery job has no order key). Failed: a transaction that also gives the month's
   * reservation back.
   */
  async finishDelivery(job: JobLease, id: string, state: "sent" | "failed", detail: string | null, now: number): Promise<void> {
    if (state === "failed") {
      await this.transaction(async (tx) => {
        await completeLeasedJob(tx, job);
        await tx.query(
          `WITH delivery AS (UPDATE deliveries SET state = $1, detail = $2, updated_at = $3 WHERE id = $4 AND state = 'pending')
           UPDATE recipients SET state = $1, detail = $2 WHERE delivery_id = $4 AND state = 'pending'`,
          [state, detail, now, id],
        );
        await releasePushIn(tx, id);
      });
      return;
    }
    const { rows } = await this.sql.query<{ n: number }>(FINISH_DELIVERY, [job.id, job.lease, state, detail, now, id]);
    if (rows[0]?.n !== 1) throw new LeaseLostError(job.id);
  }

  async listRecipientOutcomes(notificationId: string): Promise<RecipientOutcome[]> {
    const { rows } = await this.sql.query<{
      rule_id: string;
      recipient_id: string;
      delivery_id: string | null;
      state: RecipientOutcome["state"];
      detail: string | null;
    }>(`SELECT rule_id, recipient_id, delivery_id, state, detail FROM recipients WHERE notification_id = $1 ORDER BY seq`, [notificationId]);
    return rows.map((row) => ({ ruleId: row.rule_id, recipientId: row.recipient_id, deliveryId: row.delivery_id, state: row.state, detail: row.detail }));
  }

  async listRecordDeliveries(appId: string, recordId: string): Promise<DeliveryRow[]> {
    const { rows } = await this.sql.query<DeliveryDbRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE app_id = $1 AND record_id = $2 ORDER BY created_at DESC, id DESC LIMIT 50`,
      [appId, recordId],
    );
    return rows.map(toDelivery);
  }

  /** Reads notifications_app_recent backwards: one index range, whatever the table's size. */
  async listAppNotifications(appId: string, limit: number): Promise<NotificationRow[]> {
    const { rows } = await this.sql.query<NotificationDbRow>(`${NOTIFICATION_SELECT} WHERE n.app_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2`, [
      appId,
      limit,
    ]);
    return rows.map(toNotification);
  }

  /** Ends a job whose work an earlier run already finished (it died before marking the job). */
  async finishJob(job: JobLease): Promise<void> {
    await this.bookkeeping((tx) => completeLeasedJob(tx, job));
  }

  /**
   * Forgets what finished before `before` (RELAY_RETENTION_DAYS), table by table, `batchSize`
   * rows per statement with a turn of the event loop between them. Pending work, and what an open
   * dead letter needs, stays.
   */
  async pruneFinished(before: number, batchSize = 500): Promise<number> {
    return pruneIn(this.sql, before, batchSize);
  }

  async claimJob(now: number, leaseMs: number, kinds: readonly JobKind[] = ALL_JOB_KINDS): Promise<Job | undefined> {
    return (await this.claimJobs(now, leaseMs, kinds, 1))[0];
  }

  /**
   * One statement: running jobs of `kinds` whose lease lapsed are taken over, and up to `limit`
   * due, ready jobs are leased under a fresh token (pg-jobs.ts says how order holds).
   */
  async claimJobs(now: number, leaseMs: number, kinds: readonly JobKind[], limit: number): Promise<Job[]> {
    if (limit < 1 || kinds.length === 0) return [];
    return claimDueJobs(this.sql, now, leaseMs, kinds, limit);
  }

  async retryJob(job: JobLease, runAt: number, note: string, outcome?: { failed: boolean; now: number }): Promise<void> {
    await rescheduleLeasedJob(this.sql, job, runAt, note, outcome, runAt <= (outcome?.now ?? Date.now()));
  }

  async nextDueIn(now: number): Promise<number | undefined> {
    const at = await nextDueAt(this.sql);
    return at === null ? undefined : Math.max(0, at - now);
  }

  async countUnfinishedJobs(): Promise<number> {
    return countUnfinished(this.sql);
  }

  async countJobsByState(): Promise<JobCount[]> {
    return countByState(this.sql);
  }

  async countOpenDeadLetters(): Promise<number> {
    const { rows } = await this.sql.query<{ n: number }>(`SELECT COUNT(*) AS n FROM dead_letters WHERE retried_at IS NULL`);
    return rows[0]?.n ?? 0;
  }

  async deadLetterJob(job: JobLease, error: string, now: number): Promise<DeadLetterRow> {
    return this.transaction((tx) => deadLetterIn(tx, job, error, now));
  }

  async listDeadLetters(limit = 500): Promise<DeadLetterRow[]> {
    const { rows } = await this.sql.query<DeadLetterDbRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE retried_at IS NULL ORDER BY dead_at, id LIMIT $1`, [limit]);
    return rows.map(toDeadLetter);
  }

  async getDeadLetter(id: string): Promise<DeadLetterRow | undefined> {
    const { rows } = await this.sql.query<DeadLetterDbRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
    return rows[0] && toDeadLetter(rows[0]);
  }

  async retryDeadLetter(id: string, now: number): Promise<{ ok: true; jobId: string } | { ok: false; reason: "not_found" | "already_retried" | "conflict" }> {
    try {
      const jobId = await this.transaction(async (tx) => {
        const made = await retryDeadLetterIn(tx, id, now);
        tx.notifyJobsAvailable();
        return made;
      });
      return { ok: true, jobId };
    } catch (error) {
      if (error instanceof DeadLetterRetryRefused) return { ok: false, reason: error.reason };
      // notifications_pending_once: an identical notification became pending while this ran.
      if (sqlState(error) === "23505") return { ok: false, reason: "conflict" };
      throw error;
    }
  }

  /** Nothing: another instance may be alive and working on its running jobs; a lapsed lease is taken over by the next claim. */
  async releaseOrphanedLeases(): Promise<number> {
    return 0;
  }

  async extendLeases(jobs: readonly JobLease[], until: number): Promise<JobLease[]> {
    return extendHeldLeases(this.sql, jobs, until);
  }

  onJobsAvailable(listener: () => void): () => void {
    return this.listener.subscribe(listener);
  }

  /**
   * Under an advisory lock for `key` (held by this transaction, across instances): the stored
   * token when it stays valid until `validUntil`; otherwise `issue()` runs while the lock is held
   * and its token is stored, so instances asking at once issue one token between them.
   */
  async sharedChannelToken(key: string, validUntil: number, issue: () => Promise<SharedChannelToken>): Promise<SharedChannelToken> {
    return this.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_CLASS.channelToken, key]);
      const { rows } = await tx.query<{ token: string; expires_at: number }>(`SELECT token, expires_at FROM channel_tokens WHERE key = $1`, [key]);
      const stored = rows[0];
      if (stored && stored.expires_at >= validUntil) return { token: stored.token, expiresAt: stored.expires_at };
      const issued = await issue();
      await tx.query(
        `INSERT INTO channel_tokens (key, token, expires_at, issued_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, issued_at = excluded.issued_at`,
        [key, issued.token, issued.expiresAt, Date.now()],
      );
      return { token: issued.token, expiresAt: issued.expiresAt };
    });
  }

  async forgetChannelToken(key: string, token: string): Promise<void> {
    await this.sql.query(`DELETE FROM channel_tokens WHERE key = $1 AND token = $2`, [key, token]);
  }

  async storeWebhookEvents(events: InboundEvent[], now: number): Promise<{ stored: number; duplicates: number }> {
    return storeWebhookEventsIn(this.sql, events, now);
  }

  async getWebhookEvent(eventId: string): Promise<WebhookEventRow | undefined> {
    return getWebhookEventIn(this.sql, eventId);
  }

  async finishWebhookEvent(job: JobLease, eventId: string, outcome: string, changes: WebhookEventChanges = {}): Promise<void> {
    await this.bookkeeping((tx) => finishWebhookEventIn(tx, job, eventId, outcome, changes));
  }

  async markReplied(eventId: string): Promise<void> {
    await this.sql.query(MARK_REPLIED, [eventId]);
  }

  async getAcknowledgement(key: AcknowledgementKey): Promise<AcknowledgementRow | undefined> {
    return (await readAcknowledgements(this.sql, ACK_KEY, ackKey(key)))[0];
  }

  async claimAcknowledgement(key: AcknowledgementKey, eventId: string, tappedAt: number, effects: string): Promise<{ first: boolean; ack: AcknowledgementRow }> {
    return this.transaction((tx) => claimAcknowledgementIn(tx, key, eventId, tappedAt, effects));
  }

  async markAcknowledgementCommenting(key: AcknowledgementKey, now: number): Promise<void> {
    await this.sql.query(`UPDATE acknowledgements SET state = 'commenting', commenting_at = $4 WHERE ${ACK_KEY} AND state = 'writing'`, [...ackKey(key), now]);
  }

  async setAcknowledgementComment(key: AcknowledgementKey, commentId: string): Promise<void> {
    await this.sql.query(`UPDATE acknowledgements SET comment_id = $4 WHERE ${ACK_KEY}`, [...ackKey(key), commentId]);
  }

  async listAcknowledgementCommentIds(appId: string, recordId: string): Promise<string[]> {
    const { rows } = await this.sql.query<{ comment_id: string }>(
      `SELECT a.comment_id FROM acknowledgements a JOIN deliveries d ON d.id = a.delivery_id
       WHERE d.app_id = $1 AND d.record_id = $2 AND a.comment_id IS NOT NULL ORDER BY a.tapped_at`,
      [appId, recordId],
    );
    return rows.map((row) => row.comment_id);
  }

  async completeAcknowledgement(key: AcknowledgementKey, displayName: string, now: number): Promise<void> {
    await this.sql.query(`UPDATE acknowledgements SET state = 'written', display_name = $4, written_at = $5 WHERE ${ACK_KEY}`, [...ackKey(key), displayName, now]);
  }

  async listAcknowledgements(deliveryIds: string[]): Promise<AcknowledgementRow[]> {
    if (deliveryIds.length === 0) return [];
    return readAcknowledgements(this.sql, `delivery_id = ANY($1::text[])`, [deliveryIds]);
  }

  async setUserState(userId: string, state: "following" | "blocked", at: number): Promise<void> {
    await upsertUserState(this.sql, userId, state, at);
  }

  async isBlocked(userId: string): Promise<boolean> {
    const { rows } = await this.sql.query<{ state: string }>(IS_BLOCKED, [userId]);
    return rows[0]?.state === "blocked";
  }

  async setGroupState(groupId: string, kind: "group" | "room", state: "joined" | "left", at: number): Promise<void> {
    await upsertGroupState(this.sql, groupId, kind, state, at);
  }

  async setGroupName(groupId: string, name: string): Promise<void> {
    await this.sql.query(`UPDATE line_groups SET name = $1 WHERE group_id = $2`, [name, groupId]);
  }

  async listGroups(): Promise<GroupRow[]> {
    return listGroupsIn(this.sql);
  }

  async createLinkCode(row: Omit<LinkCodeRow, "usedBy">): Promise<void> {
    await this.sql.query(`INSERT INTO link_codes (code, app_id, record_id, field, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
      row.code,
      row.appId,
      row.recordId,
      row.field,
      row.createdAt,
      row.expiresAt,
    ]);
  }

  async claimLinkCode(code: string, userId: string, eventId: string, now: number): Promise<LinkCodeRow | undefined> {
    return claimLinkCodeIn(this.sql, code, userId, eventId, now);
  }

  async completeLinkCode(code: string, eventId: string, now: number): Promise<void> {
    await this.sql.query(`UPDATE link_codes SET used_at = $1 WHERE code = $2 AND used_event = $3 AND used_at IS NULL`, [now, code, eventId]);
  }

  async recordLinkMiss(userId: string, now: number, since: number): Promise<number> {
    await this.sql.query(`INSERT INTO link_attempts (user_id, at) VALUES ($1, $2)`, [userId, now]);
    return this.countLinkMisses(userId, since);
  }

  async countLinkMisses(userId: string, since: number): Promise<number> {
    const { rows } = await this.sql.query<{ n: number }>(`SELECT COUNT(*) AS n FROM link_attempts WHERE user_id = $1 AND at >= $2`, [userId, since]);
    return rows[0]?.n ?? 0;
  }

  /** One app's saves run one at a time across instances (advisory lock), so versions go up by one. */
  async saveAppRules(appId: string, rules: string, now: number): Promise<{ version: number; changed: boolean }> {
    const hash = ruleSetHash(rules);
    return this.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_CLASS.appRules, appId]);
      const { rows } = await tx.query<{ version: number; hash: string }>(
        `SELECT version, hash FROM app_rule_versions WHERE app_id = $1 ORDER BY version DESC LIMIT 1`,
        [appId],
      );
      const current = rows[0];
      if (current?.hash === hash) return { version: current.version, changed: false };
      await tx.query(`INSERT INTO rule_set_contents (hash, rules, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING`, [hash, rules, now]);
      const version = (current?.version ?? 0) + 1;
      await tx.query(`INSERT INTO app_rule_versions (app_id, version, hash, created_at) VALUES ($1, $2, $3, $4)`, [appId, version, hash, now]);
      return { version, changed: true };
    });
  }

  async getAppRules(appId: string): Promise<AppRulesRow | undefined> {
    const { rows } = await this.sql.query<{ version: number; created_at: number; rules: string }>(
      `SELECT v.version, v.created_at, c.rules FROM app_rule_versions v JOIN rule_set_contents c ON c.hash = v.hash
       WHERE v.app_id = $1 ORDER BY v.version DESC LIMIT 1`,
      [appId],
    );
    const row = rows[0];
    return row && { appId, version: row.version, rules: row.rules, updatedAt: row.created_at };
  }

  async listAppRuleSets(): Promise<AppRulesRow[]> {
    const { rows } = await this.sql.query<{ app_id: string; version: number; created_at: number; rules: string }>(
      `SELECT DISTINCT ON (v.app_id) v.app_id, v.version, v.created_at, c.rules
       FROM app_rule_versions v JOIN rule_set_contents c ON c.hash = v.hash
       ORDER BY v.app_id, v.version DESC`,
    );
    return rows.map((row) => ({ appId: row.app_id, version: row.version, rules: row.rules, updatedAt: row.created_at }));
  }

  async findAppRulesVersion(appId: string, rules: string): Promise<number | undefined> {
    const { rows } = await this.sql.query<{ version: number | null }>(`SELECT MAX(version) AS version FROM app_rule_versions WHERE app_id = $1 AND hash = $2`, [
      appId,
      ruleSetHash(rules),
    ]);
    return rows[0]?.version ?? undefined;
  }

  async setNotificationRulesVersion(id: string, version: number): Promise<void> {
    await this.sql.query(`UPDATE notifications SET rules_version = $1 WHERE id = $2`, [version, id]);
  }

  async storeKintoneWebhook(
    receipt: KintoneWebhookReceipt,
    now: number,
    notification?: { input: NotificationInput; dedupKey: string },
  ): Promise<{ duplicate: boolean; notificationId?: string }> {
    return this.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        `INSERT INTO kintone_webhooks (id, type, app_id, record_id, body, received_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO NOTHING`,
        [receipt.id, receipt.type, receipt.appId, receipt.recordId, receipt.body, now, receipt.outcome],
      );
      if (rowCount === 0) return { duplicate: true };
      if (!notification) return { duplicate: false };
      const enqueued = await insertPendingNotification(tx, notification.input, notification.dedupKey, now);
      await tx.query(`UPDATE kintone_webhooks SET notification_id = $1 WHERE id = $2`, [enqueued.id, receipt.id]);
      return { duplicate: false, notificationId: enqueued.id };
    });
  }

  async recordStatusSeen(appId: string, recordId: string, revision: number, status: string, now: number): Promise<void> {
    await this.sql.query(
      `INSERT INTO record_status_seen (app_id, record_id, revision, status, seen_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (app_id, record_id, revision) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at`,
      [appId, recordId, revision, status, now],
    );
  }

  async lastStatusSeenBefore(appId: string, recordId: string, revision: number): Promise<{ revision: number; status: string } | undefined> {
    const { rows } = await this.sql.query<{ revision: number; status: string }>(
      `SELECT revision, status FROM record_status_seen WHERE app_id = $1 AND record_id = $2 AND revision < $3 ORDER BY revision DESC LIMIT 1`,
      [appId, recordId, revision],
    );
    return rows[0];
  }

  async hasReminderRun(appId: string, ruleId: string, day: string): Promise<boolean> {
    const { rowCount } = await this.sql.query(`SELECT 1 FROM reminder_runs WHERE app_id = $1 AND rule_id = $2 AND day = $3`, [appId, ruleId, day]);
    return rowCount === 1;
  }

  /**
   * Runs of one rule are serialized across instances (advisory lock on app and rule), so two days'
   * runs at once cannot both find a (record, date value) not yet reminded.
   */
  async claimReminderRun(appId: string, ruleId: string, day: string, reminders: ReminderPlan[], now: number): Promise<{ claimed: boolean; enqueued: number }> {
    return this.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_CLASS.reminderRun, `${appId}\n${ruleId}`]);
      const { rowCount } = await tx.query(
        `INSERT INTO reminder_runs (app_id, rule_id, day, ran_at, enqueued) VALUES ($1, $2, $3, $4, 0) ON CONFLICT DO NOTHING`,
        [appId, ruleId, day, now],
      );
      if (rowCount === 0) return { claimed: false, enqueued: 0 };
      let enqueued = 0;
      for (const reminder of reminders) {
        const seen = await tx.query(`SELECT 1 FROM reminders_sent WHERE app_id = $1 AND rule_id = $2 AND record_id = $3 AND date_value = $4`, [
          appId,
          ruleId,
          reminder.recordId,
          reminder.dateValue,
        ]);
        if (seen.rowCount !== 0) continue;
        const dedupKey = `reminder:${appId}:${ruleId}:${reminder.recordId}:${reminder.dateValue}`;
        // A pending twin (same rule, record and date value) is that same reminder: it is not enqueued twice.
        const notification = await insertPendingNotification(tx, reminder.input, dedupKey, now);
        await tx.query(`INSERT INTO reminders_sent (app_id, rule_id, record_id, date_value, notification_id) VALUES ($1, $2, $3, $4, $5)`, [
          appId,
          ruleId,
          reminder.recordId,
          reminder.dateValue,
          notification.id,
        ]);
        if (!notification.duplicate) enqueued++;
      }
      await tx.query(`UPDATE reminder_runs SET enqueued = $1 WHERE app_id = $2 AND rule_id = $3 AND day = $4`, [enqueued, appId, ruleId, day]);
      return { claimed: true, enqueued };
    });
  }

  private lastWriteCheck: { at: number; result: StoreWritable } | undefined;

  /**
   * A one-row write, at most once every WRITE_CHECK_INTERVAL_MS; in between the last answer holds.
   * A database that does not answer within WRITE_CHECK_TIMEOUT_MS is reported as such, rather than
   * holding /healthz for the pool's whole connect timeout.
   */
  async checkWritable(): Promise<StoreWritable> {
    const now = Date.now();
    if (this.lastWriteCheck && now - this.lastWriteCheck.at < WRITE_CHECK_INTERVAL_MS) return this.lastWriteCheck.result;
    let result: StoreWritable;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`PostgreSQL did not answer within ${WRITE_CHECK_TIMEOUT_MS / 1000} s`)), WRITE_CHECK_TIMEOUT_MS);
      });
      await Promise.race([this.sql.query(HEALTH_PROBE, [now]), timedOut]);
      result = { ok: true };
    } catch (error) {
      result = { ok: false, message: `the store cannot write: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    this.lastWriteCheck = { at: now, result };
    return result;
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.pool.end();
  }
}

export { PostgresOpenError };
