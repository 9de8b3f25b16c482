import { newId } from "../../ids.js";
import { currentRequestId } from "../../log-context.js";
import { ruleSetHash } from "../rule-set-hash.js";
import {
  LeaseLostError,
  type DeadLetterRow,
  type DeliveryPlan,
  type DeliveryRow,
  type JobKind,
  type JobLease,
  type NotificationInput,
  type NotificationRow,
  type NotificationSource,
  type NotificationState,
  type NotifiedTransitionClaim,
  type SkippedRecipient,
} from "../relay-store.js";
import { JOBS_CHANNEL, prepared, type Sql } from "./pg-connection.js";
import { READY_NEXT, insertJob } from "./pg-jobs.js";

/**
 * Notifications, their deliveries and dead letters: the SQL SqliteStore runs for them, written
 * for PostgreSQL. Each function runs inside the caller's transaction.
 */

export interface NotificationDbRow {
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

export interface DeliveryDbRow {
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

export interface DeadLetterDbRow {
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

/** A notification with its rule set's text, kept once per content in rule_set_contents. */
export const NOTIFICATION_SELECT = `SELECT n.id, n.app_id, n.record_id, n.action, n.status, n.next_status, n.state, n.detail, n.created_at,
  n.updated_at, n.source, n.rules_version, n.rule_id, n.subject_date, c.rules
  FROM notifications n JOIN rule_set_contents c ON c.hash = n.rules_hash`;

export const DELIVERY_COLUMNS = `id, notification_id, app_id, record_id, rule_id, rule_name, method, recipients, body, retry_key, buttons, state, attempts,
  detail, created_at, updated_at`;

export const DEAD_LETTER_COLUMNS = `id, job_id, kind, ref_id, app_id, record_id, error, attempts, first_failed_at, dead_at, retried_at`;

export const toNotification = (row: NotificationDbRow): NotificationRow => ({
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

export const toDelivery = (row: DeliveryDbRow): DeliveryRow => ({
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

export const toDeadLetter = (row: DeadLetterDbRow): DeadLetterRow => ({
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

/** $1 to $13: the notification; $14 its rule set's text; $15 the job's id, $16 its request id. */
const ENQUEUE = prepared(
  `WITH content AS (
     INSERT INTO rule_set_contents (hash, rules, created_at) VALUES ($8, $14, $9) ON CONFLICT (hash) DO NOTHING
   ), inserted AS (
     INSERT INTO notifications (id, dedup_key, app_id, record_id, action, status, next_status, rules_hash, state, created_at, updated_at,
                                source, rules_version, rule_id, subject_date)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9, $10, $11, $12, $13)
     ON CONFLICT (dedup_key) WHERE state = 'pending' DO NOTHING
     RETURNING id
   ), queued AS (
     INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, created_at, req_id)
     SELECT $15, 'notification', id, 'pending', 0, $9, $9, $16 FROM inserted
     RETURNING ref_id
   )
   SELECT (SELECT ref_id FROM queued) AS id, (SELECT pg_notify('${JOBS_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM queued)) IS NULL AS quiet`,
);

/**
 * Inserts a pending notification (its rule set's text once per content) and its job in one
 * statement, which wakes the instances (NOTIFY) when it commits; unless one with `dedupKey` is
 * pending already (notifications_pending_once): then its id is returned and nothing is stored.
 * Two instances enqueueing the same change at once: the second insert waits for the first to
 * commit, then finds it. Runs on its own (committed at once) or in the caller's transaction.
 */
export async function insertPendingNotification(
  sql: Sql,
  input: NotificationInput,
  dedupKey: string,
  now: number,
): Promise<{ id: string; duplicate: boolean }> {
  // A pending twin that stops being pending between the insert and the look-up is retried.
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await sql.query<{ id: string | null }>(
      ENQUEUE,
      [
        newId("n"),
        dedupKey,
        input.appId,
        input.recordId,
        input.action,
        input.status,
        input.nextStatus,
        ruleSetHash(input.rules),
        now,
        input.source ?? "plugin",
        input.rulesVersion ?? null,
        input.ruleId ?? null,
        input.subjectDate ?? null,
        input.rules,
        newId("j"),
        currentRequestId(),
      ],
    );
    const id = rows[0]?.id;
    if (id) return { id, duplicate: false };
    const twin = await pendingNotificationId(sql, dedupKey);
    if (twin) return { id: twin, duplicate: true };
  }
  throw new Error(`notification ${dedupKey}: a pending twin kept appearing and vanishing`);
}

export async function pendingNotificationId(sql: Sql, dedupKey: string): Promise<string | undefined> {
  const { rows } = await sql.query<{ id: string }>(`SELECT id FROM notifications WHERE dedup_key = $1 AND state = 'pending'`, [dedupKey]);
  return rows[0]?.id;
}

/** Thrown inside the dispatch transaction to roll it back when the replay guard lost a race. */
export class NotifiedTransitionConflict extends Error {
  override name = "NotifiedTransitionConflict";
}

/** The job's end (fenced: $1 held under $2) and the notification's ($5), in one statement. */
const END_AND_DISPATCH = prepared(
  `WITH done AS (
     UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL WHERE id = $1 AND state = 'running' AND lease_token = $2 RETURNING id
   ), notification AS (
     UPDATE notifications SET state = 'dispatched', detail = $3, updated_at = $4 WHERE id = $5 AND state = 'pending' AND EXISTS (SELECT 1 FROM done)
     RETURNING app_id, record_id
   )
   SELECT EXISTS (SELECT 1 FROM done) AS held, (SELECT app_id FROM notification) AS app_id, (SELECT record_id FROM notification) AS record_id`,
);

/**
 * The deliveries ($5 to $12), their recipients and the skipped ones ($13 to $17) and one job per
 * delivery ($19, request id $18), in one statement: the recipients' foreign keys are checked at
 * its end, once the deliveries are in.
 */
const INSERT_DELIVERIES = prepared(
  `WITH delivery AS (
     INSERT INTO deliveries (id, notification_id, app_id, record_id, rule_id, rule_name, method, recipients, body, retry_key, buttons,
                             state, attempts, created_at, updated_at)
     SELECT d.id, $1, $2, $3, d.rule_id, d.rule_name, d.method, d.recipients, d.body, d.retry_key, d.buttons, 'pending', 0, $4, $4
     FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
       WITH ORDINALITY AS d(id, rule_id, rule_name, method, recipients, body, retry_key, buttons, position)
     ORDER BY d.position
   ), recipient AS (
     INSERT INTO recipients (notification_id, rule_id, recipient_id, delivery_id, state, detail)
     SELECT $1, r.rule_id, r.recipient_id, r.delivery_id, r.state, r.detail
     FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[]) WITH ORDINALITY AS r(rule_id, recipient_id, delivery_id, state, detail, position)
     ORDER BY r.position
     ON CONFLICT DO NOTHING
   )
   INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, created_at, req_id)
   SELECT j.id, 'delivery', j.ref_id, 'pending', 0, $4, $4, $18 FROM unnest($19::text[], $5::text[]) AS j(id, ref_id)`,
);

/**
 * dispatchNotification's transaction (see SqliteStore): true when deliveries were created (their
 * jobs are due now). Throws LeaseLostError, or NotifiedTransitionConflict, to roll everything back.
 */
export async function dispatchIn(
  sql: Sql,
  job: JobLease,
  id: string,
  deliveries: DeliveryPlan[],
  skipped: SkippedRecipient[],
  now: number,
  notified: NotifiedTransitionClaim[],
): Promise<boolean> {
  // A notification job has no order key: nothing to ready after it.
  const { rows } = await sql.query<{ held: boolean; app_id: string | null; record_id: string | null }>(
    END_AND_DISPATCH,
    [job.id, job.lease, `${deliveries.length} deliveries, ${skipped.length} recipients skipped`, now, id],
  );
  const ended = rows[0];
  if (!ended?.held) throw new LeaseLostError(job.id);
  if (ended.app_id === null || ended.record_id === null) return false;
  const notification = { app_id: ended.app_id, record_id: ended.record_id };
  // Recipients in the order SQLite inserts them (each delivery's, then the skipped ones): seq keeps it.
  const recipients = [
    ...deliveries.flatMap((plan) => plan.to.map((to) => ({ ruleId: plan.ruleId, recipientId: to, deliveryId: plan.id as string | null, state: "pending", detail: null as string | null }))),
    ...skipped.map((skip) => ({ ruleId: skip.ruleId, recipientId: skip.recipientId, deliveryId: null, state: skip.state, detail: skip.detail })),
  ];
  await sql.query(
    INSERT_DELIVERIES,
    [
      id,
      notification.app_id,
      notification.record_id,
      now,
      deliveries.map((plan) => plan.id),
      deliveries.map((plan) => plan.ruleId),
      deliveries.map((plan) => plan.ruleName),
      deliveries.map((plan) => plan.method),
      deliveries.map((plan) => JSON.stringify(plan.to)),
      deliveries.map((plan) => plan.body),
      deliveries.map((plan) => plan.retryKey),
      deliveries.map((plan) => plan.buttons),
      recipients.map((r) => r.ruleId),
      recipients.map((r) => r.recipientId),
      recipients.map((r) => r.deliveryId),
      recipients.map((r) => r.state),
      recipients.map((r) => r.detail),
      currentRequestId(),
      deliveries.map(() => newId("j")),
    ],
  );
  // The replay guard, in this same transaction: the deliveries above and these rows commit
  // together or not at all (see SqliteStore). A claim that finds the row moved on since it was
  // read throws: everything is rolled back and the job decides again. A concurrent dispatch for
  // the same record waits here for the other's commit (row lock, or the key's insert), then sees
  // its row.
  for (const claim of notified) {
    const { rowCount } =
      claim.replaces === null
        ? await sql.query(
            `INSERT INTO notified_transitions (app_id, record_id, rule_id, revision, status, notification_id, notified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
            [notification.app_id, notification.record_id, claim.ruleId, claim.revision, claim.status, id, now],
          )
        : await sql.query(
            `UPDATE notified_transitions SET revision = $1, status = $2, notification_id = $3, notified_at = $4
             WHERE app_id = $5 AND record_id = $6 AND rule_id = $7 AND revision = $8`,
            [claim.revision, claim.status, id, now, notification.app_id, notification.record_id, claim.ruleId, claim.replaces],
          );
    if (rowCount === 0) throw new NotifiedTransitionConflict();
  }
  return deliveries.length > 0;
}

/** deadLetterJob's transaction (see SqliteStore); throws LeaseLostError when the lease was lost. */
export async function deadLetterIn(sql: Sql, job: JobLease, error: string, now: number): Promise<DeadLetterRow> {
  const { rows } = await sql.query<{ kind: JobKind; ref_id: string; attempts: number; first_failed_at: number | null; order_key: string | null }>(
    `UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL, attempts = attempts + 1, note = $1
     WHERE id = $2 AND state = 'running' AND lease_token = $3
     RETURNING kind, ref_id, attempts, first_failed_at, order_key`,
    [error, job.id, job.lease],
  );
  const held = rows[0];
  if (!held) throw new LeaseLostError(job.id);
  if (held.order_key !== null) await sql.query(READY_NEXT, [held.order_key]);
  let where: { app_id: string; record_id: string } | undefined;
  const detail = `gave up: ${error}`;
  if (held.kind === "delivery") {
    await sql.query(`UPDATE deliveries SET state = 'failed', detail = $1, updated_at = $2 WHERE id = $3 AND state = 'pending'`, [detail, now, held.ref_id]);
    await sql.query(`UPDATE recipients SET state = 'failed', detail = $1 WHERE delivery_id = $2 AND state = 'pending'`, [detail, held.ref_id]);
    where = (await sql.query<{ app_id: string; record_id: string }>(`SELECT app_id, record_id FROM deliveries WHERE id = $1`, [held.ref_id])).rows[0];
  } else if (held.kind === "notification") {
    await sql.query(`UPDATE notifications SET state = 'failed', detail = $1, updated_at = $2 WHERE id = $3 AND state = 'pending'`, [detail, now, held.ref_id]);
    where = (await sql.query<{ app_id: string; record_id: string }>(`SELECT app_id, record_id FROM notifications WHERE id = $1`, [held.ref_id])).rows[0];
  } else {
    await sql.query(`UPDATE webhook_events SET state = 'done', outcome = $1 WHERE event_id = $2 AND state = 'pending'`, [detail, held.ref_id]);
  }
  const row: DeadLetterDbRow = {
    id: newId("x"),
    job_id: job.id,
    kind: held.kind,
    ref_id: held.ref_id,
    app_id: where?.app_id ?? null,
    record_id: where?.record_id ?? null,
    error,
    attempts: held.attempts,
    first_failed_at: held.first_failed_at ?? now,
    dead_at: now,
    retried_at: null,
  };
  await sql.query(
    `INSERT INTO dead_letters (id, job_id, kind, ref_id, app_id, record_id, error, attempts, first_failed_at, dead_at, retried_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [row.id, row.job_id, row.kind, row.ref_id, row.app_id, row.record_id, row.error, row.attempts, row.first_failed_at, row.dead_at, row.retried_at],
  );
  return toDeadLetter(row);
}

/** Thrown inside retryDeadLetter's transaction to roll it back with a reason. */
export class DeadLetterRetryRefused extends Error {
  constructor(readonly reason: "not_found" | "already_retried" | "conflict") {
    super(`dead letter retry refused: ${reason}`);
  }
}

/** retryDeadLetter's transaction (see SqliteStore): the job id made due now. */
export async function retryDeadLetterIn(sql: Sql, id: string, now: number): Promise<string> {
  // Locked: two retries of one letter at once, the second finds it retried.
  const letter = (await sql.query<DeadLetterDbRow>(`SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = $1 FOR UPDATE`, [id])).rows[0];
  if (!letter) throw new DeadLetterRetryRefused("not_found");
  if (letter.retried_at !== null) throw new DeadLetterRetryRefused("already_retried");
  if (letter.kind === "delivery") {
    await sql.query(`UPDATE deliveries SET state = 'pending', detail = NULL, updated_at = $1 WHERE id = $2`, [now, letter.ref_id]);
    await sql.query(`UPDATE recipients SET state = 'pending', detail = NULL WHERE delivery_id = $1 AND state = 'failed'`, [letter.ref_id]);
  } else if (letter.kind === "notification") {
    const notification = (await sql.query<{ dedup_key: string }>(`SELECT dedup_key FROM notifications WHERE id = $1`, [letter.ref_id])).rows[0];
    if (notification && (await pendingNotificationId(sql, notification.dedup_key))) throw new DeadLetterRetryRefused("conflict");
    // A twin enqueued concurrently makes this update break notifications_pending_once: the caller maps it to "conflict".
    await sql.query(`UPDATE notifications SET state = 'pending', detail = NULL, updated_at = $1 WHERE id = $2`, [now, letter.ref_id]);
  } else {
    await sql.query(`UPDATE webhook_events SET state = 'pending', outcome = NULL WHERE event_id = $1`, [letter.ref_id]);
  }
  // The same job row again (pruning keeps it while the letter is open): its order key stays;
  // the give-up clock starts afresh.
  const { rowCount } = await sql.query(
    `UPDATE jobs SET state = 'pending', run_at = $1, lease_until = NULL, lease_token = NULL, first_failed_at = NULL WHERE id = $2 AND state = 'done'`,
    [now, letter.job_id],
  );
  const jobId = rowCount === 1 ? letter.job_id : await insertJob(sql, letter.kind, letter.ref_id, now);
  await sql.query(`UPDATE dead_letters SET retried_at = $1 WHERE id = $2`, [now, id]);
  return jobId;
}
