import type { Sql } from "./pg-connection.js";
import { PG_USER_LINKS_PRUNE_STEPS } from "./pg-user-links.js";
import { PG_APPROVALS_PRUNE_STEPS } from "./pg-approvals.js";

/**
 * Pruning, children before parents (foreign keys), as SqliteStore's PRUNE_STEPS. Each step deletes
 * at most `$2` rows of what finished before the cutoff `$1`; nothing pending, nothing an open dead
 * letter needs. Rows are picked by ctid (SQLite's rowid) with FOR UPDATE SKIP LOCKED: two
 * instances pruning at once take different rows, and a row another transaction is using (a rule
 * set a notification being inserted names) is left for the next round.
 *
 * One difference: a notification a kintone webhook receipt or a sent reminder names is kept (with
 * those rows), where SQLite's delete would be refused by their foreign keys.
 */
const PRUNE_STEPS: readonly string[] = [
  `DELETE FROM dead_letters WHERE ctid = ANY(ARRAY(SELECT ctid FROM dead_letters WHERE dead_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM jobs WHERE ctid = ANY(ARRAY(SELECT ctid FROM jobs WHERE state = 'done' AND created_at < $1
     AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.job_id = jobs.id AND d.retried_at IS NULL) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM acknowledgements WHERE ctid = ANY(ARRAY(SELECT ctid FROM acknowledgements WHERE state = 'written' AND tapped_at < $1
     LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM recipients WHERE ctid = ANY(ARRAY(SELECT r.ctid FROM notifications n JOIN recipients r ON r.notification_id = n.id
     WHERE n.created_at < $1 AND n.state <> 'pending'
       AND (r.delivery_id IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = r.delivery_id AND d.state = 'pending'))
     LIMIT $2 FOR UPDATE OF r SKIP LOCKED))`,
  `DELETE FROM deliveries WHERE ctid = ANY(ARRAY(SELECT ctid FROM deliveries WHERE created_at < $1 AND state <> 'pending'
     AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.delivery_id = deliveries.id)
     AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.delivery_id = deliveries.id)
     AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.ref_id = deliveries.id AND x.retried_at IS NULL) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  // The replay guard (notified_transitions: one row per app, record and rule) keeps the notification it names.
  // kintone resends a webhook within minutes: an old receipt's id guards nothing any more.
  `DELETE FROM kintone_webhooks WHERE ctid = ANY(ARRAY(SELECT ctid FROM kintone_webhooks WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM notifications WHERE ctid = ANY(ARRAY(SELECT ctid FROM notifications WHERE created_at < $1 AND state <> 'pending'
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM notified_transitions t WHERE t.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM kintone_webhooks k WHERE k.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM reminders_sent s WHERE s.notification_id = notifications.id)
     AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.ref_id = notifications.id AND x.retried_at IS NULL) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM webhook_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM webhook_events WHERE state = 'done' AND received_at < $1
     AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.ref_id = webhook_events.event_id AND x.retried_at IS NULL) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM link_codes WHERE ctid = ANY(ARRAY(SELECT ctid FROM link_codes WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM link_attempts WHERE ctid = ANY(ARRAY(SELECT ctid FROM link_attempts WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  // After the notifications: a rule set's text goes once no notification and no app version names it.
  `DELETE FROM rule_set_contents WHERE ctid = ANY(ARRAY(SELECT ctid FROM rule_set_contents c WHERE c.created_at < $1
     AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.rules_hash = c.hash)
     AND NOT EXISTS (SELECT 1 FROM app_rule_versions v WHERE v.hash = c.hash) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  ...PG_USER_LINKS_PRUNE_STEPS,
  ...PG_APPROVALS_PRUNE_STEPS,
];

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `batchSize` rows per statement (each its own transaction), yielding to the event loop between them. */
export async function pruneIn(sql: Sql, before: number, batchSize: number): Promise<number> {
  let removed = 0;
  for (const step of PRUNE_STEPS) {
    for (;;) {
      const { rowCount } = await sql.query(step, [before, batchSize]);
      removed += rowCount ?? 0;
      await yieldToEventLoop();
      if ((rowCount ?? 0) < batchSize) break;
    }
  }
  return removed;
}
