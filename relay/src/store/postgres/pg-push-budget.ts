import type { PushReservation, PushUsage } from "../relay-store.js";
import type { Sql } from "./pg-connection.js";

/**
 * RELAY_MONTHLY_PUSH_CAP in PostgreSQL (table push_months), as sqlite-push-budget.ts does it.
 * Each function runs inside the caller's transaction, after the caller checked (and locked) the
 * job's lease. The month's row is locked (FOR UPDATE) before it is read, so the instances decide
 * one reservation at a time and never push past the cap together.
 */

interface DeliveryBudgetRow {
  recipients: string;
  push_month: string | null;
}

async function lockMonth(sql: Sql, month: string): Promise<{ pushed: number; line_limited_at: number | null }> {
  await sql.query(`INSERT INTO push_months (month) VALUES ($1) ON CONFLICT (month) DO NOTHING`, [month]);
  const { rows } = await sql.query<{ pushed: number; line_limited_at: number | null }>(
    `SELECT pushed, line_limited_at FROM push_months WHERE month = $1 FOR UPDATE`,
    [month],
  );
  const row = rows[0];
  if (!row) throw new Error(`push month ${month} vanished`);
  return row;
}

/** True for the first caller of the month only: its "cap reached" is logged, nobody else's. */
async function claimCapReport(sql: Sql, month: string, now: number): Promise<boolean> {
  const { rowCount } = await sql.query(`UPDATE push_months SET cap_reported_at = $1 WHERE month = $2 AND cap_reported_at IS NULL`, [now, month]);
  return rowCount === 1;
}

async function markCapped(sql: Sql, jobId: string, deliveryId: string, detail: string, now: number): Promise<void> {
  await sql.query(`UPDATE deliveries SET state = 'capped', detail = $1, updated_at = $2 WHERE id = $3 AND state = 'pending'`, [detail, now, deliveryId]);
  await sql.query(`UPDATE recipients SET state = 'capped', detail = $1 WHERE delivery_id = $2 AND state = 'pending'`, [detail, deliveryId]);
  await sql.query(`UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL WHERE id = $1`, [jobId]);
}

export async function reservePushIn(sql: Sql, jobId: string, deliveryId: string, month: string, cap: number | null, now: number): Promise<PushReservation> {
  const { rows } = await sql.query<DeliveryBudgetRow>(`SELECT recipients, push_month FROM deliveries WHERE id = $1`, [deliveryId]);
  const delivery = rows[0];
  if (!delivery) throw new Error(`no delivery ${deliveryId}`);
  // An earlier attempt reserved it (a retry after 5xx, a dead letter retried): LINE may have it already.
  if (delivery.push_month !== null) return { kind: "push", month: delivery.push_month };
  const count = (JSON.parse(delivery.recipients) as unknown[]).length;
  const usage = await lockMonth(sql, month);
  const limited = usage.line_limited_at !== null;
  // A request that would pass the cap is not sent at all, as LINE does with its own limit: one
  // multicast is one message body, its recipients get it together or not.
  if (limited || (cap !== null && usage.pushed + count > cap)) {
    const detail = limited
      ? `not sent: LINE said the channel reached its monthly limit in ${month}`
      : `not sent: RELAY_MONTHLY_PUSH_CAP ${cap} reached in ${month} (${usage.pushed} pushed, ${count} more needed)`;
    await markCapped(sql, jobId, deliveryId, detail, now);
    return { kind: "capped", reason: limited ? "line_limit" : "cap", month, pushed: usage.pushed, firstThisMonth: await claimCapReport(sql, month, now) };
  }
  await sql.query(`UPDATE push_months SET pushed = pushed + $1 WHERE month = $2`, [count, month]);
  await sql.query(`UPDATE deliveries SET push_month = $1 WHERE id = $2`, [month, deliveryId]);
  return { kind: "push", month };
}

/** Gives a delivery's reservation back (LINE did not count it). */
export async function releasePushIn(sql: Sql, deliveryId: string): Promise<void> {
  const { rows } = await sql.query<DeliveryBudgetRow>(`SELECT recipients, push_month FROM deliveries WHERE id = $1`, [deliveryId]);
  const delivery = rows[0];
  if (!delivery || delivery.push_month === null) return;
  const count = (JSON.parse(delivery.recipients) as unknown[]).length;
  await sql.query(`UPDATE push_months SET pushed = GREATEST(0, pushed - $1) WHERE month = $2`, [count, delivery.push_month]);
  await sql.query(`UPDATE deliveries SET push_month = NULL WHERE id = $1`, [deliveryId]);
}

export async function capAtLineLimitIn(sql: Sql, jobId: string, deliveryId: string, month: string, detail: string, now: number): Promise<{ firstThisMonth: boolean }> {
  await releasePushIn(sql, deliveryId);
  await lockMonth(sql, month);
  await sql.query(`UPDATE push_months SET line_limited_at = COALESCE(line_limited_at, $1) WHERE month = $2`, [now, month]);
  await markCapped(sql, jobId, deliveryId, detail, now);
  return { firstThisMonth: await claimCapReport(sql, month, now) };
}

export async function pushUsageIn(sql: Sql, month: string): Promise<PushUsage> {
  const { rows } = await sql.query<{ pushed: number; line_limited_at: number | null }>(
    `SELECT pushed, line_limited_at FROM push_months WHERE month = $1`,
    [month],
  );
  return { month, pushed: rows[0]?.pushed ?? 0, lineLimitedAt: rows[0]?.line_limited_at ?? null };
}
