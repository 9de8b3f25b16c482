import type Database from "better-sqlite3";
import type { PushReservation, PushUsage } from "./relay-store.js";

/**
 * RELAY_MONTHLY_PUSH_CAP in SQLite (table push_months, sqlite-schema.ts). Each function runs
 * inside the caller's transaction; `sql` prepares (and caches) a statement on its connection.
 */
type Sql = (text: string) => Database.Statement;

interface DeliveryBudgetRow {
  state: string;
  recipients: string;
  push_month: string | null;
  app_id: string;
}

function ensureMonth(sql: Sql, month: string): { pushed: number; line_limited_at: number | null } {
  sql(`INSERT OR IGNORE INTO push_months (month) VALUES (?)`).run(month);
  return sql(`SELECT pushed, line_limited_at FROM push_months WHERE month = ?`).get(month) as { pushed: number; line_limited_at: number | null };
}

/** True for the first caller of the month only: its "cap reached" is logged, nobody else's. */
function claimCapReport(sql: Sql, month: string, now: number): boolean {
  return sql(`UPDATE push_months SET cap_reported_at = ? WHERE month = ? AND cap_reported_at IS NULL`).run(now, month).changes === 1;
}

/** `endJob` ends the delivery's job under its lease (fenced by the store). */
function markCapped(sql: Sql, endJob: () => void, deliveryId: string, detail: string, now: number): void {
  sql(`UPDATE deliveries SET state = 'capped', detail = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(detail, now, deliveryId);
  sql(`UPDATE recipients SET state = 'capped', detail = ? WHERE delivery_id = ? AND state = 'pending'`).run(detail, deliveryId);
  endJob();
}

export function reservePushIn(sql: Sql, endJob: () => void, deliveryId: string, month: string, cap: number | null, now: number): PushReservation {
  const delivery = sql(`SELECT state, recipients, push_month, app_id FROM deliveries WHERE id = ?`).get(deliveryId) as DeliveryBudgetRow | undefined;
  if (!delivery) throw new Error(`no delivery ${deliveryId}`);
  // An earlier attempt reserved it (a retry after 5xx, a dead letter retried): LINE may have it already.
  if (delivery.push_month !== null) return { kind: "push", month: delivery.push_month };
  const count = (JSON.parse(delivery.recipients) as unknown[]).length;
  const usage = ensureMonth(sql, month);
  const limited = usage.line_limited_at !== null;
  // A request that would pass the cap is not sent at all, as LINE does with its own limit: one
  // multicast is one message body, its recipients get it together or not.
  if (limited || (cap !== null && usage.pushed + count > cap)) {
    const detail = limited
      ? `not sent: LINE said the channel reached its monthly limit in ${month}`
      : `not sent: RELAY_MONTHLY_PUSH_CAP ${cap} reached in ${month} (${usage.pushed} pushed, ${count} more needed)`;
    markCapped(sql, endJob, deliveryId, detail, now);
    return { kind: "capped", reason: limited ? "line_limit" : "cap", month, pushed: usage.pushed, firstThisMonth: claimCapReport(sql, month, now) };
  }
  sql(`UPDATE push_months SET pushed = pushed + ? WHERE month = ?`).run(count, month);
  sql(`UPDATE deliveries SET push_month = ? WHERE id = ?`).run(month, deliveryId);
  return { kind: "push", month };
}

/** Gives a delivery's reservation back (LINE did not count it). */
export function releasePushIn(sql: Sql, deliveryId: string): void {
  const delivery = sql(`SELECT recipients, push_month FROM deliveries WHERE id = ?`).get(deliveryId) as
    | { recipients: string; push_month: string | null }
    | undefined;
  if (!delivery || delivery.push_month === null) return;
  const count = (JSON.parse(delivery.recipients) as unknown[]).length;
  sql(`UPDATE push_months SET pushed = MAX(0, pushed - ?) WHERE month = ?`).run(count, delivery.push_month);
  sql(`UPDATE deliveries SET push_month = NULL WHERE id = ?`).run(deliveryId);
}

export function capAtLineLimitIn(sql: Sql, endJob: () => void, deliveryId: string, month: string, detail: string, now: number): { firstThisMonth: boolean } {
  releasePushIn(sql, deliveryId);
  ensureMonth(sql, month);
  sql(`UPDATE push_months SET line_limited_at = COALESCE(line_limited_at, ?) WHERE month = ?`).run(now, month);
  markCapped(sql, endJob, deliveryId, detail, now);
  return { firstThisMonth: claimCapReport(sql, month, now) };
}

export function pushUsageIn(sql: Sql, month: string): PushUsage {
  const row = sql(`SELECT pushed, line_limited_at FROM push_months WHERE month = ?`).get(month) as
    | { pushed: number; line_limited_at: number | null }
    | undefined;
  return { month, pushed: row?.pushed ?? 0, lineLimitedAt: row?.line_limited_at ?? null };
}
