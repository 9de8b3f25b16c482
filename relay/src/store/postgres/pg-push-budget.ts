import { LeaseLostError, type JobLease, type PushReservation, type PushUsage } from "../relay-store.js";
import { prepared, type Sql } from "./pg-connection.js";

/**
 * RELAY_MONTHLY_PUSH_CAP in PostgreSQL (table push_months), as sqlite-push-budget.ts does it.
 * Each function runs inside the caller's transaction. The month's row is locked before it is
 * read, so the instances decide one reservation at a time and never push past the cap together.
 */

interface DeliveryBudgetRow {
  recipients: string;
  push_month: string | null;
}

const LOCK_MONTH = prepared(
  `INSERT INTO push_months (month) VALUES ($1) ON CONFLICT (month) DO UPDATE SET month = excluded.month RETURNING pushed, line_limited_at`,
);

/** The month's row, created if needed and locked until the transaction ends (the upsert locks it). */
async function lockMonth(sql: Sql, month: string): Promise<{ pushed: number; line_limited_at: number | null }> {
  const { rows } = await sql.query<{ pushed: number; line_limited_at: number | null }>(LOCK_MONTH, [month]);
  const row = rows[0];
  if (!row) throw new Error(`push month ${month} could not be read`);
  return row;
}

/**
 * The delivery, its recipients and its job end `capped` with `detail`; returns whether this is the
 * month's first cap report (its "cap reached" is logged once, by whichever instance got here first).
 */
async function markCapped(sql: Sql, jobId: string, deliveryId: string, month: string, detail: string, now: number): Promise<boolean> {
  const { rows } = await sql.query<{ first: boolean }>(
    `WITH delivery AS (
       UPDATE deliveries SET state = 'capped', detail = $1, updated_at = $2 WHERE id = $3 AND state = 'pending'
     ), recipients AS (
       UPDATE recipients SET state = 'capped', detail = $1 WHERE delivery_id = $3 AND state = 'pending'
     ), job AS (
       UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL WHERE id = $4
     ), report AS (
       UPDATE push_months SET cap_reported_at = $2 WHERE month = $5 AND cap_reported_at IS NULL RETURNING month
     )
     SELECT EXISTS (SELECT 1 FROM report) AS first`,
    [detail, now, deliveryId, jobId, month],
  );
  return rows[0]?.first === true;
}

/** The job held under its lease, locked, with its delivery's recipients and reservation. */
const HELD_DELIVERY = prepared(
  `SELECT d.id IS NOT NULL AS found, d.recipients, d.push_month
   FROM jobs j LEFT JOIN deliveries d ON d.id = $3
   WHERE j.id = $1 AND j.state = 'running' AND j.lease_token = $2
   FOR NO KEY UPDATE OF j`,
);
const COUNT_PUSH = prepared(
  `WITH counted AS (UPDATE push_months SET pushed = pushed + $1 WHERE month = $2)
   UPDATE deliveries SET push_month = $2 WHERE id = $3`,
);

/** Checks the lease (LeaseLostError), then reserves or caps, in the caller's transaction. */
export async function reservePushIn(sql: Sql, job: JobLease, deliveryId: string, month: string, cap: number | null, now: number): Promise<PushReservation> {
  // The lease check, its row lock and the delivery's reservation in one read.
  const { rows } = await sql.query<{ found: boolean } & Partial<DeliveryBudgetRow>>(HELD_DELIVERY, [job.id, job.lease, deliveryId]);
  const delivery = rows[0];
  if (!delivery) throw new LeaseLostError(job.id);
  if (!delivery.found || delivery.recipients === undefined) throw new Error(`no delivery ${deliveryId}`);
  // An earlier attempt reserved it (a retry after 5xx, a dead letter retried): LINE may have it already.
  if (delivery.push_month !== null && delivery.push_month !== undefined) return { kind: "push", month: delivery.push_month };
  const count = (JSON.parse(delivery.recipients) as unknown[]).length;
  const usage = await lockMonth(sql, month);
  const limited = usage.line_limited_at !== null;
  // A request that would pass the cap is not sent at all, as LINE does with its own limit: one
  // multicast is one message body, its recipients get it together or not.
  if (limited || (cap !== null && usage.pushed + count > cap)) {
    const detail = limited
      ? `not sent: LINE said the channel reached its monthly limit in ${month}`
      : `not sent: RELAY_MONTHLY_PUSH_CAP ${cap} reached in ${month} (${usage.pushed} pushed, ${count} more needed)`;
    const firstThisMonth = await markCapped(sql, job.id, deliveryId, month, detail, now);
    return { kind: "capped", reason: limited ? "line_limit" : "cap", month, pushed: usage.pushed, firstThisMonth };
  }
  await sql.query(COUNT_PUSH, [count, month, deliveryId]);
  return { kind: "push", month };
}

/** Gives a delivery's reservation back (LINE did not count it). */
export async function releasePushIn(sql: Sql, deliveryId: string): Promise<void> {
  const { rows } = await sql.query<DeliveryBudgetRow>(`SELECT recipients, push_month FROM deliveries WHERE id = $1`, [deliveryId]);
  const delivery = rows[0];
  if (!delivery || delivery.push_month === null) return;
  const count = (JSON.parse(delivery.recipients) as unknown[]).length;
  await sql.query(
    `WITH released AS (UPDATE push_months SET pushed = GREATEST(0, pushed - $1) WHERE month = $2)
     UPDATE deliveries SET push_month = NULL WHERE id = $3`,
    [count, delivery.push_month, deliveryId],
  );
}

/** Runs after the caller locked the job's row under its lease (holdLease). */
export async function capAtLineLimitIn(sql: Sql, jobId: string, deliveryId: string, month: string, detail: string, now: number): Promise<{ firstThisMonth: boolean }> {
  await releasePushIn(sql, deliveryId);
  await lockMonth(sql, month);
  await sql.query(`UPDATE push_months SET line_limited_at = COALESCE(line_limited_at, $1) WHERE month = $2`, [now, month]);
  return { firstThisMonth: await markCapped(sql, jobId, deliveryId, month, detail, now) };
}

export async function pushUsageIn(sql: Sql, month: string): Promise<PushUsage> {
  const { rows } = await sql.query<{ pushed: number; line_limited_at: number | null }>(
    `SELECT pushed, line_limited_at FROM push_months WHERE month = $1`,
    [month],
  );
  return { month, pushed: rows[0]?.pushed ?? 0, lineLimitedAt: rows[0]?.line_limited_at ?? null };
}
