import { newId } from "../../ids.js";
import { currentRequestId } from "../../log-context.js";
import { LeaseLostError, type Job, type JobCount, type JobKind, type JobLease } from "../relay-store.js";
import { JOBS_CHANNEL, prepared, type Sql } from "./pg-connection.js";

/**
 * The job queue in PostgreSQL, shared by every instance on the database. Each function runs on
 * the caller's transaction (or the pool for one statement).
 *
 * Claims lock due pending jobs with FOR UPDATE SKIP LOCKED, so instances claiming at once take
 * different jobs without waiting for each other, and lease them under a token drawn afresh for
 * each claim. Every call that ends or reschedules a job names that token; a job taken over meanwhile
 * (its lease lapsed, another claim holds it) refuses it with LeaseLostError (fencing).
 *
 * Order: a job with an order key (a LINE user's or group's events, order_seq = the event's
 * timestamp) is ready only while no earlier job of its key is unfinished. The claim decides that
 * itself, with NOT EXISTS on jobs_open, reading only committed rows: a head being claimed or
 * finished by another transaction still counts as unfinished, so two events of one user never
 * run at once. One claim takes at most one job per order key, since only heads are ready.
 *
 * So that a claim does not read through a user's whole backlog behind a head that is running or
 * waiting for its retry, jobs.ready keeps known-blocked jobs out of the claim indexes. It is a
 * hint that may say ready wrongly (the claim's NOT EXISTS still decides) but never says blocked
 * for a job that may run: it is false only when the job was inserted behind an unfinished earlier
 * one, and the transaction that ends a job makes its key's next job ready. The two cannot miss
 * each other: the insert locks the job it waits behind (FOR SHARE, until it commits), and the end
 * of that job locks it too (its UPDATE, which waits for the insert's commit) before a second
 * statement, with a snapshot taken after that lock, looks for the next job. An insert that meets
 * a job being ended waits for that end and finds the job done (the lock re-reads the row).
 *
 * Bookkeeping statements outside a transaction set synchronous_commit = off for their own commit
 * with set_config(…, true) in a CTE (PostgresStore.bookkeeping says why that is enough): one
 * round trip instead of BEGIN, SET LOCAL, the statement and COMMIT.
 */

export const ALL_JOB_KINDS: readonly JobKind[] = ["webhook-event", "notification", "delivery"];

/** A CTE that makes its statement's own (implicit) transaction commit without waiting for the WAL flush. */
export const BOOKKEEPING_CTE = `bookkeeping AS (SELECT set_config('synchronous_commit', 'off', true) AS off)`;

/** The job carries the request id of the work inserting it (a request, or the job whose run creates it). */
export async function insertJob(sql: Sql, kind: JobKind, refId: string, runAt: number): Promise<string> {
  const id = newId("j");
  await sql.query(
    `INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, created_at, req_id) VALUES ($1, $2, $3, 'pending', 0, $4, $4, $5)`,
    [id, kind, refId, runAt, currentRequestId()],
  );
  return id;
}

/**
 * Ends a job held under `job.lease` (done, lease cleared), or throws LeaseLostError and changes
 * nothing; then, in a second statement, readies the next job of its order key. Runs in the
 * caller's transaction: the row stays locked until the commit, so the job cannot be taken over
 * while the rest of the transaction writes what the job did.
 */
export async function completeLeasedJob(sql: Sql, job: JobLease): Promise<void> {
  const orderKey = await endLeasedJob(sql, job);
  if (orderKey !== null) await sql.query(READY_NEXT, [orderKey]);
}

const END_JOB = prepared(
  `UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL WHERE id = $1 AND state = 'running' AND lease_token = $2
   RETURNING order_key`,
);

/** The first half of completeLeasedJob: the job done (or LeaseLostError); returns its order key. */
export async function endLeasedJob(sql: Sql, job: JobLease): Promise<string | null> {
  const { rows } = await sql.query<{ order_key: string | null }>(END_JOB, [job.id, job.lease]);
  const done = rows[0];
  if (!done) throw new LeaseLostError(job.id);
  return done.order_key;
}

/**
 * The key ($1)'s first unfinished job is ready now, if it was inserted blocked (a claim may take it
 * once this commits). Runs after the statement that ended a job of the key: that statement's row
 * lock waited for any insert that had locked the job, so this one's snapshot sees its rows.
 */
export const READY_NEXT_SQL = `UPDATE jobs SET ready = true
  WHERE id = (SELECT id FROM jobs WHERE order_key = $1 AND state <> 'done' ORDER BY order_seq, id LIMIT 1) AND state = 'pending' AND NOT ready`;
export const READY_NEXT = prepared(READY_NEXT_SQL);

/**
 * SQL: whether a job of order key `key` at position (`seq`, `id`), in a statement that inserts it,
 * must wait: an unfinished earlier job of its key exists. The earliest such job is locked FOR
 * SHARE, so its end waits for this insert's commit (see above); always the earliest first, so
 * inserts and ends of one key take their locks in one order.
 */
export const blockedBehind = (key: string, seq: string, id: string): string =>
  `EXISTS (SELECT 1 FROM jobs e WHERE e.order_key = ${key} AND e.state <> 'done' AND (e.order_seq, e.id) < (${seq}, ${id})
    ORDER BY e.order_seq, e.id LIMIT 1 FOR SHARE)`;

/** Checks that `job.lease` still holds the job and locks its row until the transaction ends. */
export async function holdLease(sql: Sql, job: JobLease): Promise<void> {
  const { rowCount } = await sql.query(`SELECT 1 FROM jobs WHERE id = $1 AND state = 'running' AND lease_token = $2 FOR NO KEY UPDATE`, [
    job.id,
    job.lease,
  ]);
  if (rowCount !== 1) throw new LeaseLostError(job.id);
}

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

/** Whether no earlier job of `j`'s order key is unfinished (jobs_open: one index seek). */
const READY = `(j.order_key IS NULL OR NOT EXISTS (
  SELECT 1 FROM jobs e WHERE e.order_key = j.order_key AND e.state <> 'done' AND (e.order_seq, e.id) < (j.order_seq, j.id)))`;

/** How many lapsed leases one claim looks at, at most (the index keeps each one a seek). */
const LAPSED_PER_CLAIM = 256;

/**
 * One bookkeeping statement: running jobs of `kinds` ($1) whose lease lapsed by `now` ($2; their
 * worker died or stalled: jobs_leased) and, per kind, jobs_claim read in run_at order until
 * `limit` ($3) ready, unlocked, due jobs are found; the earliest `limit` of both are leased under
 * the new token ($4) until $5. A job taken over keeps its place (its run_at), and its old holder's
 * results are refused. Rows another transaction holds are skipped. Cost: an index range per kind,
 * as long as the heads of the queue are ready.
 */
export const CLAIM_SQL = `
  WITH ${BOOKKEEPING_CTE},
  lapsed AS (
    SELECT id, run_at FROM jobs WHERE state = 'running' AND lease_until <= $2 AND kind = ANY($1::text[])
    ORDER BY lease_until LIMIT ${LAPSED_PER_CLAIM} FOR UPDATE SKIP LOCKED
  ),
  waiting AS (
    SELECT c.id, c.run_at FROM unnest($1::text[]) AS k(kind)
    CROSS JOIN LATERAL (
      SELECT j.id, j.run_at FROM jobs j
      WHERE j.kind = k.kind AND j.state = 'pending' AND j.ready AND j.run_at <= $2 AND ${READY}
      ORDER BY j.run_at LIMIT $3
      FOR UPDATE SKIP LOCKED
    ) c
  ),
  due AS (SELECT id, run_at FROM lapsed UNION ALL SELECT id, run_at FROM waiting ORDER BY run_at LIMIT $3)
  UPDATE jobs SET state = 'running', lease_token = $4, lease_until = $5,
    note = CASE WHEN jobs.state = 'running' THEN 'lease lapsed: taken over' ELSE jobs.note END
  FROM due, bookkeeping WHERE jobs.id = due.id
  RETURNING jobs.id, jobs.kind, jobs.ref_id, jobs.attempts, jobs.created_at, jobs.first_failed_at, jobs.waiting_since, jobs.run_at, jobs.req_id`;

const CLAIM = prepared(CLAIM_SQL);

export async function claimDueJobs(sql: Sql, now: number, leaseMs: number, kinds: readonly JobKind[], limit: number): Promise<Job[]> {
  const lease = newId("l");
  const { rows } = await sql.query<ClaimDbRow>(CLAIM, [kinds, now, limit, lease, now + leaseMs]);
  return rows
    .sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : 1))
    .map((row) => ({
      id: row.id,
      lease,
      kind: row.kind,
      refId: row.ref_id,
      attempts: row.attempts,
      createdAt: row.created_at,
      firstFailedAt: row.first_failed_at,
      waitingSince: row.waiting_since,
      requestId: row.req_id,
    }));
}

const rescheduleSql = (clocks: string) => `WITH ${BOOKKEEPING_CTE},
  moved AS (
    UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = $1, lease_until = NULL, lease_token = NULL, note = $2${clocks}
    FROM bookkeeping WHERE id = $3 AND state = 'running' AND lease_token = $4 RETURNING id
  )
  SELECT (SELECT COUNT(*) FROM moved) AS n, (SELECT pg_notify('${JOBS_CHANNEL}', '') WHERE $5 AND EXISTS (SELECT 1 FROM moved)) IS NULL AS quiet`;
const RESCHEDULE = prepared(rescheduleSql(""));
/** The give-up clock ($6: the attempt failed) and the wait clock, from $7 (now). */
const RESCHEDULE_WITH_CLOCKS = prepared(
  rescheduleSql(`, first_failed_at = CASE WHEN $6 THEN COALESCE(first_failed_at, $7) ELSE NULL END,
    waiting_since = CASE WHEN $6 THEN NULL ELSE COALESCE(waiting_since, $7) END`),
);

/**
 * Gives a held job back to run at `runAt` (attempts + 1), or throws LeaseLostError; one
 * bookkeeping statement. A job due at once (`due`) wakes the instances (NOTIFY with its commit).
 */
export async function rescheduleLeasedJob(
  sql: Sql,
  job: JobLease,
  runAt: number,
  note: string,
  outcome: { failed: boolean; now: number } | undefined,
  due: boolean,
): Promise<void> {
  const { rows } = await sql.query<{ n: number }>(
    outcome ? RESCHEDULE_WITH_CLOCKS : RESCHEDULE,
    outcome ? [runAt, note, job.id, job.lease, due, outcome.failed, outcome.now] : [runAt, note, job.id, job.lease, due],
  );
  if (rows[0]?.n !== 1) throw new LeaseLostError(job.id);
}

const EXTEND_LEASES = prepared(
  `WITH ${BOOKKEEPING_CTE}
   UPDATE jobs SET lease_until = GREATEST(jobs.lease_until, $3)
   FROM unnest($1::text[], $2::text[]) AS held(id, lease), bookkeeping
   WHERE jobs.id = held.id AND jobs.lease_token = held.lease AND jobs.state = 'running'
   RETURNING jobs.id, jobs.lease_token`,
);

/** Extends the leases still held (one bookkeeping statement); returns the jobs whose lease was lost. */
export async function extendHeldLeases(sql: Sql, jobs: readonly JobLease[], until: number): Promise<JobLease[]> {
  if (jobs.length === 0) return [];
  // In id order: two calls over the same jobs (the heartbeat, a claim) lock them in one order.
  const sorted = [...jobs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const { rows } = await sql.query<{ id: string; lease_token: string }>(
    EXTEND_LEASES,
    [sorted.map((job) => job.id), sorted.map((job) => job.lease), until],
  );
  const kept = new Set(rows.map((row) => `${row.id} ${row.lease_token}`));
  return jobs.filter((job) => !kept.has(`${job.id} ${job.lease}`));
}

/**
 * When the next claim can find work: the earliest ready pending job (jobs_next_due, in run_at
 * order), or the earliest lease that lapses (jobs_leased), whichever comes first.
 */
export const NEXT_DUE_SQL = `SELECT LEAST(
  (SELECT j.run_at FROM jobs j WHERE j.state = 'pending' AND j.ready AND ${READY} ORDER BY j.run_at LIMIT 1),
  (SELECT MIN(lease_until) FROM jobs WHERE state = 'running')) AS at`;

const NEXT_DUE = prepared(NEXT_DUE_SQL);

export async function nextDueAt(sql: Sql): Promise<number | null> {
  const { rows } = await sql.query<{ at: number | null }>(NEXT_DUE, []);
  return rows[0]?.at ?? null;
}

export async function countUnfinished(sql: Sql): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(`SELECT COUNT(*) AS n FROM jobs WHERE state <> 'done'`);
  return rows[0]?.n ?? 0;
}

export async function countByState(sql: Sql): Promise<JobCount[]> {
  const { rows } = await sql.query<{ kind: JobKind; state: "pending" | "running"; n: number }>(
    `SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state <> 'done' GROUP BY kind, state ORDER BY kind, state`,
  );
  return rows.map((row) => ({ kind: row.kind, state: row.state, count: row.n }));
}
