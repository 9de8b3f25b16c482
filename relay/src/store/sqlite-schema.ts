import { SQLITE_APPROVALS_MIGRATION } from "./sqlite-approvals.js";
import { SQLITE_USER_LINKS_MIGRATION } from "./sqlite-user-links.js";

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at INTEGER NOT NULL,
    lease_until INTEGER,
    order_key TEXT,
    order_seq INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_due ON jobs (state, run_at);
  CREATE INDEX jobs_order ON jobs (order_key, state) WHERE order_key IS NOT NULL;

  CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    next_status TEXT NOT NULL,
    rules TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX notifications_pending_once ON notifications (dedup_key) WHERE state = 'pending';

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
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_record ON deliveries (app_id, record_id);

  CREATE TABLE recipients (
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    rule_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    delivery_id TEXT REFERENCES deliveries (id),
    state TEXT NOT NULL,
    detail TEXT,
    PRIMARY KEY (notification_id, rule_id, recipient_id)
  );
  CREATE INDEX recipients_delivery ON recipients (delivery_id);
  `,
  `
  CREATE TABLE webhook_events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source_key TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    redelivery INTEGER NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    outcome TEXT,
    replied INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE acknowledgements (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    user_id TEXT NOT NULL,
    button_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    display_name TEXT,
    tapped_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('writing', 'commenting', 'written')),
    written_at INTEGER,
    PRIMARY KEY (delivery_id, user_id, button_id)
  );

  CREATE TABLE line_users (
    user_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('following', 'blocked')),
    changed_at INTEGER NOT NULL
  );

  CREATE TABLE line_groups (
    group_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('group', 'room')),
    state TEXT NOT NULL CHECK (state IN ('joined', 'left')),
    changed_at INTEGER NOT NULL
  );

  CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by TEXT,
    used_at INTEGER,
    used_event TEXT
  );

  CREATE TABLE link_attempts (
    user_id TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX link_attempts_user ON link_attempts (user_id, at);
  `,
  `
  -- Rule sets the relay keeps per app: each content once (by SHA-256), and the versions using it.
  CREATE TABLE rule_set_contents (
    hash TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE app_rule_versions (
    app_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES rule_set_contents (hash),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, version)
  );
  `,
  `
  -- The replay guard: per (app, record, rule), the revision and status last notified. Written in
  -- the transaction that creates the deliveries, so both exist or neither does.
  CREATE TABLE notified_transitions (
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    notified_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, record_id, rule_id)
  );
  `,
  `
  -- An acknowledgement's effects, decided once before its first kintone write (the field values,
  -- the comment text, the display name, as JSON) and the comment's id once kintone gave it;
  -- commenting_at: when the comment was about to be posted (a re-run looks for it from then on).
  ALTER TABLE acknowledgements ADD COLUMN effects TEXT;
  ALTER TABLE acknowledgements ADD COLUMN comment_id TEXT;
  ALTER TABLE acknowledgements ADD COLUMN commenting_at INTEGER;
  `,
  `
  -- Job claims by index, whatever the queue's size. A job is claimable when it is pending and
  -- ready; an ordered job (a LINE user's events) is ready only while no earlier job of its order
  -- key is unfinished. The triggers keep that flag, so a claim never looks at other jobs: it
  -- reads the first entry of jobs_claim for its kind. They fire on every connection, the inbox
  -- writer's included, whose INSERT stays as it is.
  ALTER TABLE jobs ADD COLUMN ready INTEGER NOT NULL DEFAULT 1;
  -- When the current run of failures began (null: the last attempt did not fail): the give-up clock.
  ALTER TABLE jobs ADD COLUMN first_failed_at INTEGER;
  -- When the job began waiting with answers (kintone answered, the status is not the new one yet);
  -- null after a failure: an outage does not use up the confirm bound.
  ALTER TABLE jobs ADD COLUMN waiting_since INTEGER;
  DROP INDEX jobs_due;
  DROP INDEX jobs_order;
  CREATE INDEX jobs_claim ON jobs (kind, run_at) WHERE state = 'pending' AND ready = 1;
  CREATE INDEX jobs_next_due ON jobs (run_at) WHERE state = 'pending' AND ready = 1;
  CREATE INDEX jobs_open ON jobs (order_key, order_seq, id) WHERE state <> 'done';
  CREATE INDEX jobs_finished ON jobs (created_at) WHERE state = 'done';

  UPDATE jobs SET ready = NOT EXISTS (
    SELECT 1 FROM jobs e WHERE e.order_key = jobs.order_key AND e.state <> 'done'
      AND (e.order_seq < jobs.order_seq OR (e.order_seq = jobs.order_seq AND e.id < jobs.id)))
  WHERE order_key IS NOT NULL AND state <> 'done' AND state = 'pending';

  CREATE TRIGGER jobs_order_on_insert AFTER INSERT ON jobs WHEN NEW.order_key IS NOT NULL BEGIN
    UPDATE jobs SET ready = NOT EXISTS (
      SELECT 1 FROM jobs e WHERE e.order_key = jobs.order_key AND e.state <> 'done'
        AND (e.order_seq < jobs.order_seq OR (e.order_seq = jobs.order_seq AND e.id < jobs.id)))
    WHERE order_key = NEW.order_key AND state <> 'done' AND state = 'pending';
  END;
  CREATE TRIGGER jobs_order_on_state AFTER UPDATE OF state ON jobs
  WHEN NEW.order_key IS NOT NULL AND (OLD.state = 'done') <> (NEW.state = 'done') BEGIN
    UPDATE jobs SET ready = NOT EXISTS (
      SELECT 1 FROM jobs e WHERE e.order_key = jobs.order_key AND e.state <> 'done'
        AND (e.order_seq < jobs.order_seq OR (e.order_seq = jobs.order_seq AND e.id < jobs.id)))
    WHERE order_key = NEW.order_key AND state <> 'done' AND state = 'pending';
  END;

  -- Work that kept failing past RELAY_GIVE_UP_AFTER_MS. The job row (done) and what it works on
  -- stay as they were, so a retry runs it again exactly as before.
  CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    app_id TEXT,
    record_id TEXT,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL,
    dead_at INTEGER NOT NULL,
    retried_at INTEGER
  );
  CREATE INDEX dead_letters_open ON dead_letters (dead_at) WHERE retried_at IS NULL;
  CREATE INDEX dead_letters_job ON dead_letters (job_id);

  -- What pruning reads by age.
  CREATE INDEX notifications_created ON notifications (created_at);
  CREATE INDEX deliveries_notification ON deliveries (notification_id);
  CREATE INDEX webhook_events_done ON webhook_events (received_at) WHERE state = 'done';
  `,
  `
  -- Triggers no browser fires (kintone webhooks, reminders). A notification says where it came
  -- from and which stored rule-set version it used; a reminder names its one rule and date.
  ALTER TABLE notifications ADD COLUMN source TEXT NOT NULL DEFAULT 'plugin';
  ALTER TABLE notifications ADD COLUMN rules_version INTEGER;
  ALTER TABLE notifications ADD COLUMN rule_id TEXT;
  ALTER TABLE notifications ADD COLUMN subject_date TEXT;

  -- kintone's webhook notifications, by kintone's id (a resend is dropped), kept as received.
  CREATE TABLE kintone_webhooks (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    app_id TEXT NOT NULL,
    record_id TEXT,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    notification_id TEXT REFERENCES notifications (id)
  );

  -- The statuses the relay saw a record in, by revision: lets a webhook-only change judge "from".
  CREATE TABLE record_status_seen (
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, record_id, revision)
  );

  -- Reminders: a day's run of a rule is claimed once (in the transaction that enqueues its
  -- notifications), and each (rule, record, date value) is reminded once.
  CREATE TABLE reminder_runs (
    app_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    day TEXT NOT NULL,
    ran_at INTEGER NOT NULL,
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
  `,
  `
  -- The request id (X-Request-Id, or one the relay made) of the work a job belongs to: the
  -- worker puts it on every log line it writes for the job; a delivery's job takes its
  -- notification's.
  ALTER TABLE jobs ADD COLUMN req_id TEXT;

  -- RELAY_MONTHLY_PUSH_CAP: messages pushed per calendar month (RELAY_TIMEZONE), one per recipient
  -- as LINE counts them. A delivery reserves its recipients here in the transaction that decides
  -- to push it (deliveries.push_month says which month holds its reservation), so instances
  -- sharing the store never push past the cap together. line_limited_at: LINE answered 429 "monthly
  -- limit" this month (nothing more is pushed until the next); cap_reported_at: the month's
  -- "cap reached" error was logged (once per month, whichever instance saw it first).
  CREATE TABLE push_months (
    month TEXT PRIMARY KEY,
    pushed INTEGER NOT NULL DEFAULT 0,
    line_limited_at INTEGER,
    cap_reported_at INTEGER
  );
  ALTER TABLE deliveries ADD COLUMN push_month TEXT;
  `,
  `
  -- The settings page's Deliveries tab: an app's newest notifications (GET /v1/apps/{appId}/notifications).
  CREATE INDEX notifications_app_recent ON notifications (app_id, created_at, id);
  `,
  `
  -- A notification names its rule set by content hash (rule_set_contents, as app rule versions
  -- do), so a thousand notifications of one rule set keep its text once. Existing rows move
  -- over (rule_set_hash() is ruleSetHash, registered on the connection before migrating), then
  -- the text column is dropped rather than left empty beside the hash: DROP COLUMN (SQLite 3.35+)
  -- rewrites the table in place and works here because nothing else (index, trigger, view,
  -- constraint) names notifications.rules; a hand-made copy of the table would have to re-create
  -- the five tables' foreign keys into it. rules_hash stays nullable (ADD COLUMN cannot add NOT
  -- NULL without a default); every insert sets it and reads join on it.
  ALTER TABLE notifications ADD COLUMN rules_hash TEXT REFERENCES rule_set_contents (hash);
  INSERT OR IGNORE INTO rule_set_contents (hash, rules, created_at)
    SELECT rule_set_hash(rules), rules, MIN(created_at) FROM notifications GROUP BY rules;
  UPDATE notifications SET rules_hash = rule_set_hash(rules);
  ALTER TABLE notifications DROP COLUMN rules;
  -- Pruning asks whether a content is still named; a content row's delete checks the same (foreign key).
  CREATE INDEX notifications_rules_hash ON notifications (rules_hash);
  CREATE INDEX app_rule_versions_hash ON app_rule_versions (hash);
  `,
  `
  -- A group's name from LINE's group summary (GET /v2/bot/group/{groupId}/summary), fetched when
  -- the bot joins or when GET /v1/groups lists a group without one; rooms have none.
  ALTER TABLE line_groups ADD COLUMN name TEXT;
  `,
  `
  -- Leases with an owner: each claim draws a token (lease_owner) that every call ending or
  -- rescheduling the job must name, so a worker whose lease lapsed and was taken over cannot land
  -- its result too (fencing). A lapsed lease (lease_until passed) is claimable again.
  ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
  CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
  `,
  // The connect flow and the links of kintone users to LINE users (sqlite-user-links.ts).
  SQLITE_USER_LINKS_MIGRATION,
  // Approvals: the kintone user each delivery reached, and the steps taken from LINE (sqlite-approvals.ts).
  SQLITE_APPROVALS_MIGRATION,
  `
  -- Pruning: old kintone webhook receipts go by age, and a notification is kept while a receipt
  -- or a sent reminder names it (each NOT EXISTS an index seek).
  CREATE INDEX kintone_webhooks_received ON kintone_webhooks (received_at);
  CREATE INDEX kintone_webhooks_notification ON kintone_webhooks (notification_id);
  CREATE INDEX reminders_sent_notification ON reminders_sent (notification_id);
  `,
  `
  -- Per-user order, kept at the cost of the rows that change. The triggers before recomputed
  -- \`ready\` for every open job of the user (or group) at each insert and each completion: queueing
  -- k events of one busy group cost k² row checks, in the inbox writer's commits and in the worker's.
  -- An insert decides the new job, and un-readies the rare later jobs it went in front of (an event
  -- that arrived late); a completion readies the user's first open job; only a job reopened (a dead
  -- letter retried) recomputes the whole user, as before. Each statement reads jobs_open.
  DROP TRIGGER jobs_order_on_insert;
  DROP TRIGGER jobs_order_on_state;
  CREATE TRIGGER jobs_order_on_insert AFTER INSERT ON jobs WHEN NEW.order_key IS NOT NULL AND NEW.state <> 'done' BEGIN
    UPDATE jobs SET ready = NOT EXISTS (
      SELECT 1 FROM jobs e WHERE e.order_key = NEW.order_key AND e.state <> 'done' AND (e.order_seq, e.id) < (NEW.order_seq, NEW.id))
    WHERE id = NEW.id AND state = 'pending';
    -- Row values, so that the range is an index seek (an OR of the two cases scanned the table).
    UPDATE jobs SET ready = 0
    WHERE order_key = NEW.order_key AND state <> 'done' AND (order_seq, id) > (NEW.order_seq, NEW.id) AND state = 'pending' AND ready = 1;
  END;
  CREATE TRIGGER jobs_order_on_done AFTER UPDATE OF state ON jobs
  WHEN NEW.order_key IS NOT NULL AND OLD.state <> 'done' AND NEW.state = 'done' BEGIN
    UPDATE jobs SET ready = 1
    WHERE id = (SELECT id FROM jobs WHERE order_key = NEW.order_key AND state <> 'done' ORDER BY order_seq, id LIMIT 1)
      AND state = 'pending' AND ready = 0;
  END;
  CREATE TRIGGER jobs_order_on_reopen AFTER UPDATE OF state ON jobs
  WHEN NEW.order_key IS NOT NULL AND OLD.state = 'done' AND NEW.state <> 'done' BEGIN
    UPDATE jobs SET ready = NOT EXISTS (
      SELECT 1 FROM jobs e WHERE e.order_key = jobs.order_key AND e.state <> 'done'
        AND (e.order_seq < jobs.order_seq OR (e.order_seq = jobs.order_seq AND e.id < jobs.id)))
    WHERE order_key = NEW.order_key AND state = 'pending';
  END;
  `,
];
