import type pg from "pg";
import { inTransaction } from "./pg-connection.js";
import { PG_APPROVALS_MIGRATION } from "./pg-approvals.js";
import { PG_USER_LINKS_MIGRATION } from "./pg-user-links.js";

/**
 * The PostgreSQL schema, as numbered migrations (schema_migrations records each one applied).
 * The first creates the final shape of SQLite's schema after all its migrations (sqlite-schema.ts):
 * the same tables and column names, times as BIGINT epoch milliseconds, flags as BOOLEAN. What
 * differs, and why:
 * - jobs.ready is a hint, not SQLite's trigger-kept truth (a trigger here would read rows other
 *   transactions have not committed): false only for a job known to wait behind an earlier one
 *   of its order key, and kept under that key's advisory lock (pg-jobs.ts). A claim still decides
 *   readiness itself with NOT EXISTS on jobs_open. jobs.lease_token: the token of the claim holding
 *   a running job (fencing).
 * - recipients.seq keeps their insertion order (SQLite's rowid).
 * - channel_tokens: the LINE channel token the instances share.
 * - indexes on the columns that reference notifications, so deleting one (pruning) does not scan.
 * Later changes are new entries appended to MIGRATIONS, never edits to an applied one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    -- A running job's lease: until when it is held, and the token of the claim holding it. Every
    -- call that ends or reschedules the job names the token; another one is refused.
    lease_until BIGINT,
    lease_token TEXT,
    -- Whose jobs run one at a time, in order_seq order (a LINE user's or group's events).
    order_key TEXT,
    order_seq BIGINT NOT NULL DEFAULT 0,
    -- False only while the job is known to wait behind an earlier job of its order key: such jobs
    -- stay out of the claim indexes, so a user's long backlog costs a claim nothing.
    ready BOOLEAN NOT NULL DEFAULT true,
    note TEXT,
    created_at BIGINT NOT NULL,
    first_failed_at BIGINT,
    waiting_since BIGINT,
    req_id TEXT
  );
  -- Claims: per kind, due pending jobs in run_at order (read until enough ready ones are found).
  CREATE INDEX jobs_claim ON jobs (kind, run_at) WHERE state = 'pending' AND ready;
  CREATE INDEX jobs_next_due ON jobs (run_at) WHERE state = 'pending' AND ready;
  -- Readiness: an ordered job runs only while no earlier job of its order key is unfinished.
  CREATE INDEX jobs_open ON jobs (order_key, order_seq, id) WHERE state <> 'done';
  -- Leases that lapsed (their worker died or stalled): taken over by the next claim.
  CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
  CREATE INDEX jobs_finished ON jobs (created_at) WHERE state = 'done';

  CREATE TABLE rule_set_contents (
    hash TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE app_rule_versions (
    app_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES rule_set_contents (hash),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, version)
  );
  CREATE INDEX app_rule_versions_hash ON app_rule_versions (hash);

  CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    next_status TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    source TEXT NOT NULL DEFAULT 'plugin',
    rules_version INTEGER,
    rule_id TEXT,
    subject_date TEXT,
    rules_hash TEXT NOT NULL REFERENCES rule_set_contents (hash)
  );
  CREATE UNIQUE INDEX notifications_pending_once ON notifications (dedup_key) WHERE state = 'pending';
  CREATE INDEX notifications_created ON notifications (created_at);
  CREATE INDEX notifications_app_recent ON notifications (app_id, created_at, id);
  CREATE INDEX notifications_rules_hash ON notifications (rules_hash);

  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    method TEXT NOT NULL,
    recipients TEXT NOT NULL,
    body TEXT NOT NULL,
    retry_key TEXT NOT NULL UNIQUE,
    buttons TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    push_month TEXT
  );
  CREATE INDEX deliveries_record ON deliveries (app_id, record_id);
  CREATE INDEX deliveries_notification ON deliveries (notification_id);

  CREATE TABLE recipients (
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    rule_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    delivery_id TEXT REFERENCES deliveries (id),
    state TEXT NOT NULL,
    detail TEXT,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (notification_id, rule_id, recipient_id)
  );
  CREATE INDEX recipients_delivery ON recipients (delivery_id);

  CREATE TABLE webhook_events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source_key TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    redelivery BOOLEAN NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    outcome TEXT,
    replied BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX webhook_events_done ON webhook_events (received_at) WHERE state = 'done';

  CREATE TABLE acknowledgements (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    user_id TEXT NOT NULL,
    button_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    display_name TEXT,
    tapped_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('writing', 'commenting', 'written')),
    written_at BIGINT,
    effects TEXT,
    comment_id TEXT,
    commenting_at BIGINT,
    PRIMARY KEY (delivery_id, user_id, button_id)
  );
  CREATE INDEX acknowledgements_written ON acknowledgements (tapped_at) WHERE state = 'written';

  CREATE TABLE line_users (
    user_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('following', 'blocked')),
    changed_at BIGINT NOT NULL
  );

  CREATE TABLE line_groups (
    group_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('group', 'room')),
    state TEXT NOT NULL CHECK (state IN ('joined', 'left')),
    changed_at BIGINT NOT NULL,
    name TEXT
  );

  CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by TEXT,
    used_at BIGINT,
    used_event TEXT
  );
  CREATE INDEX link_codes_expires ON link_codes (expires_at);

  CREATE TABLE link_attempts (
    user_id TEXT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX link_attempts_user ON link_attempts (user_id, at);
  CREATE INDEX link_attempts_at ON link_attempts (at);

  -- The replay guard: per (app, record, rule), the revision and status last notified.
  CREATE TABLE notified_transitions (
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    notified_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, record_id, rule_id)
  );
  CREATE INDEX notified_transitions_notification ON notified_transitions (notification_id);

  CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    app_id TEXT,
    record_id TEXT,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_failed_at BIGINT NOT NULL,
    dead_at BIGINT NOT NULL,
    retried_at BIGINT
  );
  CREATE INDEX dead_letters_open ON dead_letters (dead_at) WHERE retried_at IS NULL;
  CREATE INDEX dead_letters_job ON dead_letters (job_id);
  CREATE INDEX dead_letters_open_ref ON dead_letters (ref_id) WHERE retried_at IS NULL;
  CREATE INDEX dead_letters_dead_at ON dead_letters (dead_at);

  CREATE TABLE kintone_webhooks (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    app_id TEXT NOT NULL,
    record_id TEXT,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    notification_id TEXT REFERENCES notifications (id)
  );
  CREATE INDEX kintone_webhooks_notification ON kintone_webhooks (notification_id);

  CREATE TABLE record_status_seen (
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, record_id, revision)
  );

  CREATE TABLE reminder_runs (
    app_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    day TEXT NOT NULL,
    ran_at BIGINT NOT NULL,
    enqueued INTEGER NOT NULL,
    PRIMARY KEY (app_id, rule_id, day)
  );
  CREATE TABLE reminders_sent (
    app_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    date_value TEXT NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    PRIMARY KEY (app_id, rule_id, record_id, date_value)
  );
  CREATE INDEX reminders_sent_notification ON reminders_sent (notification_id);

  -- RELAY_MONTHLY_PUSH_CAP: recipients reserved per month (pg-push-budget.ts).
  CREATE TABLE push_months (
    month TEXT PRIMARY KEY,
    pushed INTEGER NOT NULL DEFAULT 0,
    line_limited_at BIGINT,
    cap_reported_at BIGINT
  );

  -- The LINE channel access token the instances share (v2.1 tokens are limited per channel).
  CREATE TABLE channel_tokens (
    key TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    issued_at BIGINT NOT NULL
  );

  -- checkWritable's probe: one row, rewritten.
  CREATE TABLE store_health (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at BIGINT NOT NULL
  );
  `,
  // The connect flow and the links of kintone users to LINE users (pg-user-links.ts).
  PG_USER_LINKS_MIGRATION,
  // Approvals: the kintone user each delivery reached, and the steps taken from LINE (pg-approvals.ts).
  PG_APPROVALS_MIGRATION,
  `
  -- Pruning: old kintone webhook receipts go by age.
  CREATE INDEX kintone_webhooks_received ON kintone_webhooks (received_at);
  `,
];

/**
 * Held (transaction-scoped) while migrating, so instances starting together apply each migration
 * once: the others wait, then find it recorded. An arbitrary constant ("relay" in ASCII).
 */
export const MIGRATION_LOCK = 0x72656c6179;

/** Applies the migrations not yet recorded, in one transaction; returns the versions it applied. */
export async function migratePostgres(pool: pg.Pool, now: number): Promise<number[]> {
  return inTransaction(pool, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
    const { rows } = await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`);
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const [index, migration] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (done.has(version)) continue;
      await tx.query(migration);
      await tx.query(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, [version, now]);
      applied.push(version);
    }
    return applied;
  });
}
