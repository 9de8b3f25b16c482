import { newId } from "../../ids.js";
import { currentRequestId } from "../../log-context.js";
import { LeaseLostError, type Job, type JobCount, type JobKind, type JobLease } from "../relay-store.js";
import { LOCK_CLASS, type Sql } from "./pg-connection.js";

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
 * one, and the transaction that ends a job makes its key's next job ready. Both take the order
 * key's advisory lock first, so each sees the other's commit: an insert and the end of the job it
 * waits behind cannot both miss each other.
 */

export const ALL_JOB_KINDS: readonly JobKind[] = ["webhook-event", "notification", "delivery"];

/** The job carries the request id of the work inserting it (a request, or the job whose run creates it). */
export async function insertJob(sql: Sql, kind: JobKind, refId: string, runAt: number): Promise<string> {
  const id = newId("j");
  await sql.query(
    `INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, created_at, req_id) VALUES ($1, $2, $3, 'pending', 0, $4, $4, $5)`,
    [id, kind, refId, runAt, currentRequestId()],
  );
  return id;
}

/** Several jobs of one kind in one statement (a dispatch's deliveries). */
export async function insertJobs(sql: Sql, kind: JobKind, refIds: readonly string[], runAt: number): Promise<void> {
  if (refIds.length === 0) return;
  await sql.query(
    `INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, created_at, req_id)
     SELECT id, $1, ref_id, 'pending', 0, $2, $2, $3 FROM unnest($4::text[], $5::text[]) AS t(id, ref_id)`,
    [kind, runAt, currentRequestId(), refIds.map(() => newId("j")), refIds],
  );
}

/**
 * Ends a job held under `job.lease` (done, lease cleared), or throws LeaseLostError and changes
 * nothing. In a transaction, the row stays locked until the commit: the job cannot be taken over
 * while the rest of the transaction writes what the job did.
 */
export async function completeLeasedJob(sql: Sql, job: JobLease): Promise<void> {
  const { rows } = await sql.query<{ order_key: string | null }>(
    `UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL WHERE id = $1 AND state = 'running' AND lease_token = $2
     RETURNING order_key`,
    [job.id, job.lease],
  );
  const done = rows[0];
  if (!done) throw new LeaseLostError(job.id);
  if (done.order_key !== null) await readyNextInOrder(sql, done.order_key);
}

/**
 * Called in the transaction that ended a job of `orderKey`: the key's first unfinished job, if it
 * was inserted blocked, is ready now (a claim may take it once this commits). Under the key's lock,
 * taken before this statement's snapshot: an insert of the key that committed meanwhile is seen.
 */
export async function readyNextInOrder(sql: Sql, orderKey: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [LOCK_CLASS.orderKey, orderKey]);
  await sql.query(
    `UPDATE jobs SET ready = true
     WHERE id = (SELECT id FROM jobs WHERE order_key = $1 AND state <> 'done' ORDER BY order_seq, id LIMIT 1) AND state = 'pending' AND NOT ready`,
    [orderKey],
  );
}

/**
 * Takes the advisory locks of `orderKeys` (in one order, so two inserts cannot deadlock) before
 * jobs of those keys are inserted with their readiness (readyNextInOrder says why).
 */
export async function lockOrderKeys(sql: Sql, orderKeys: readonly string[]): Promise<void> {
  const keys = [...new Set(orderKeys)];
  if (keys.length === 0) return;
  await sql.query(
    `SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS keys`,
    [LOCK_CLASS.orderKey, keys],
  );
}

/** Checks that `job.lease` still holds the job and locks its row until the transaction ends. */
export async function holdLease(sql: Sql, job: JobLease): Promise<void> {
  const { rowCount } = await sql.query(`SELECT 1 FROM jobs WHERE id = $1 AND state = 'running' AND lease_token = $2 FOR NO KEY UPDATE`, [
    job.id,
    job.lease,
  ]);
  if (rowCount !== 1) throw new LeaseLostError(job.id);
}

/** How many lapsed leases one claim gives back at most (the index keeps each one a seek). */
const LAPSED_PER_CLAIM = 256;

/**
 * Running jobs of `kinds` whose lease lapsed by `now` (their worker died or stalled) become
 * pending again, lease cleared: the claim that follows in the same transaction can take them,
 * and their old holder's results are refused. Rows another transaction holds are skipped.
 */
export async function releaseLapsedLeases(sql: Sql, now: number, kinds: readonly JobKind[]): Promise<number> {
  const { rowCount } = await sql.query(
    `UPDATE jobs SET state = 'pending', lease_until = NULL, lease_token = NULL, note = 'lease lapsed: taken over'
     WHERE id = ANY(ARRAY(
       SELECT id FROM jobs WHERE state = 'running' AND lease_until <= $1 AND kind = ANY($2::text[])
       ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED))`,
    [now, kinds, LAPSED_PER_CLAIM],
  );
  return rowCount ?? 0;
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

/**
 * Per kind, jobs_claim read in run_at order until `limit` ready, unlocked, due jobs are found
 * (ready ones locked as they are found), then the earliest `limit` of them are leased. Cost: an
 * index range per kind, as long as the heads of the queue are ready.
 */
export const CLAIM_SQL = `
  WITH due AS (
    SELECT c.id FROM unnest($1::text[]) AS k(kind)
    CROSS JOIN LATERAL (
      SELECT j.id, j.run_at FROM jobs j
      WHERE j.kind = k.kind AND j.state = 'pending' AND j.ready AND j.run_at <= $2 AND ${READY}
      ORDER BY j.run_at LIMIT $3
      FOR UPDATE SKIP LOCKED
    ) c
    ORDER BY c.run_at LIMIT $3
  )
  UPDATE jobs SET state = 'running', lease_token = $4, lease_until = $5
  FROM due WHERE jobs.id = due.id
  RETURNING jobs.id, jobs.kind, jobs.ref_id, jobs.attempts, jobs.created_at, jobs.first_failed_at, jobs.waiting_since, jobs.run_at, jobs.req_id`;

export async function claimDueJobs(sql: Sql, now: number, leaseMs: number, kinds: readonly JobKind[], limit: number): Promise<Job[]> {
  const lease = newId("l");
  const { rows } = await sql.query<ClaimDbRow>(CLAIM_SQL, [kinds, now, limit, lease, now + leaseMs]);
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

/** Gives a held job back to run at `runAt` (attempts + 1), or throws LeaseLostError. */
export async function rescheduleLeasedJob(
  sql: Sql,
  job: JobLease,
  runAt: number,
  note: string,
  outcome?: { failed: boolean; now: number },
): Promise<void> {
  const { rowCount } = outcome
    ? await sql.query(
        `UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = $1, lease_until = NULL, lease_token = NULL, note = $2,
           first_failed_at = CASE WHEN $3 THEN COALESCE(first_failed_at, $4) ELSE NULL END,
           waiting_since = CASE WHEN $3 THEN NULL ELSE COALESCE(waiting_since, $4) END
         WHERE id = $5 AND state = 'running' AND lease_token = $6`,
        [runAt, note, outcome.failed, outcome.now, job.id, job.lease],
      )
    : await sql.query(
        `UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = $1, lease_until = NULL, lease_token = NULL, note = $2
         WHERE id = $3 AND state = 'running' AND lease_token = $4`,
        [runAt, note, job.id, job.lease],
      );
  if (rowCount !== 1) throw new LeaseLostError(job.id);
}

/** Extends the leases still held; returns the jobs whose lease was lost. */
export async function extendHeldLeases(sql: Sql, jobs: readonly JobLease[], until: number): Promise<JobLease[]> {
  if (jobs.length === 0) return [];
  // Locked in id order: two calls over overlapping jobs cannot deadlock.
  const sorted = [...jobs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const { rows } = await sql.query<{ id: string; lease_token: string }>(
    `UPDATE jobs SET lease_until = GREATEST(jobs.lease_until, $3)
     FROM unnest($1::text[], $2::text[]) AS held(id, lease)
     WHERE jobs.id = held.id AND jobs.lease_token = held.lease AND jobs.state = 'running'
     RETURNING jobs.id, jobs.lease_token`,
    [sorted.map((job) => job.id), sorted.map((job) => job.lease), until],
  );
  const kept = new Set(rows.map((row) => `${row.id}\n${row.lease_token}`));
  return jobs.filter((job) => !kept.has(`${job.id}\n${job.lease}`));
}

/**
 * When the next claim can find work: the earliest ready pending job (jobs_next_due, in run_at
 * order), or the earliest lease that lapses (jobs_leased), whichever comes first.
 */
export const NEXT_DUE_SQL = `SELECT LEAST(
  (SELECT j.run_at FROM jobs j WHERE j.state = 'pending' AND j.ready AND ${READY} ORDER BY j.run_at LIMIT 1),
  (SELECT MIN(lease_until) FROM jobs WHERE state = 'running')) AS at`;

export async function nextDueAt(sql: Sql): Promise<number | null> {
  const { rows } = await sql.query<{ at: number | null }>(NEXT_DUE_SQL);
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
