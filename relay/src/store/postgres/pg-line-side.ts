import { newId } from "../../ids.js";
import type {
  AcknowledgementKey,
  AcknowledgementRow,
  GroupRow,
  InboundEvent,
  JobLease,
  LinkCodeRow,
  WebhookEventChanges,
  WebhookEventRow,
} from "../relay-store.js";
import { JOBS_CHANNEL, prepared, type Sql } from "./pg-connection.js";
import { READY_NEXT_SQL, blockedBehind, endLeasedJob } from "./pg-jobs.js";

/**
 * What LINE's side keeps in PostgreSQL: webhook events (the inbox), acknowledgements of button
 * taps, users' and groups' state, link codes. The SQL SqliteStore runs for them; each function runs
 * on the pool (one statement) or in the caller's transaction.
 */

const STORE_EVENTS = prepared(
  `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::text[], $7::text[])
       WITH ORDINALITY AS t(event_id, type, source_key, ts, redelivery, body, job_id, position)
   ), stored AS (
     INSERT INTO webhook_events (event_id, type, source_key, timestamp, received_at, redelivery, body)
     SELECT event_id, type, source_key, ts, $8, redelivery, body FROM input ORDER BY position
     ON CONFLICT (event_id) DO NOTHING
     RETURNING event_id
   ), queued AS (
     INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, order_key, order_seq, created_at, ready)
     SELECT i.job_id, 'webhook-event', i.event_id, 'pending', 0, $8, i.source_key, i.ts, $8,
       NOT (row_number() OVER (PARTITION BY i.source_key ORDER BY i.ts, i.job_id) > 1 OR ${blockedBehind("i.source_key", "i.ts", "i.job_id")})
     FROM input AS i JOIN stored USING (event_id) ORDER BY i.position
     RETURNING 1
   )
   SELECT (SELECT COUNT(*) FROM queued) AS stored, (SELECT pg_notify('${JOBS_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM queued)) IS NULL AS quiet`,
);

/**
 * Commits a webhook request's new events and a job for each in one statement, with its NOTIFY.
 * A job is inserted blocked (ready = false) behind an unfinished earlier event of its user, stored
 * before or in this same request (pg-jobs.ts says why that is safe). One row per event id (a
 * request may carry the same event twice): the first is kept, as SQLite's INSERT OR IGNORE keeps it.
 */
export async function storeWebhookEventsIn(sql: Sql, events: InboundEvent[], now: number): Promise<{ stored: number; duplicates: number }> {
  const first = new Map<string, InboundEvent>();
  for (const event of events) if (!first.has(event.eventId)) first.set(event.eventId, event);
  const batch = [...first.values()];
  if (batch.length === 0) return { stored: 0, duplicates: 0 };
  const { rows } = await sql.query<{ stored: number }>(
    STORE_EVENTS,
    [
      batch.map((event) => event.eventId),
      batch.map((event) => event.type),
      batch.map((event) => event.sourceKey),
      batch.map((event) => event.timestamp),
      batch.map((event) => event.redelivery),
      batch.map((event) => event.body),
      batch.map(() => newId("j")),
      now,
    ],
  );
  const stored = rows[0]?.stored ?? 0;
  return { stored, duplicates: events.length - stored };
}

const GET_EVENT = prepared(
  `SELECT event_id, type, source_key, timestamp, received_at, redelivery, body, state, outcome, replied FROM webhook_events WHERE event_id = $1`,
);

export async function getWebhookEventIn(sql: Sql, eventId: string): Promise<WebhookEventRow | undefined> {
  const { rows } = await sql.query<{
    event_id: string;
    type: string;
    source_key: string;
    timestamp: number;
    received_at: number;
    redelivery: boolean;
    body: string;
    state: "pending" | "done";
    outcome: string | null;
    replied: boolean;
  }>(GET_EVENT, [eventId]);
  const row = rows[0];
  return (
    row && {
      eventId: row.event_id,
      type: row.type,
      sourceKey: row.source_key,
      timestamp: row.timestamp,
      receivedAt: row.received_at,
      redelivery: row.redelivery,
      body: row.body,
      state: row.state,
      outcome: row.outcome,
      replied: row.replied,
    }
  );
}

const END_EVENT = prepared(
  `WITH next AS (${READY_NEXT_SQL} RETURNING id)
   UPDATE webhook_events SET state = 'done', outcome = $2, replied = replied OR $3 WHERE event_id = $4`,
);

/** In the caller's transaction: the event's job ends (fenced), the event with what its run changed. */
export async function finishWebhookEventIn(sql: Sql, job: JobLease, eventId: string, outcome: string, changes: WebhookEventChanges): Promise<void> {
  const orderKey = await endLeasedJob(sql, job);
  // The user's next event is made ready in the statement that ends the event (after the one
  // above, for its snapshot: pg-jobs.ts).
  await sql.query(END_EVENT, [orderKey, outcome, changes.replied === true, eventId]);
  if (changes.user) await upsertUserState(sql, changes.user.userId, changes.user.state, changes.user.at);
  if (changes.group) await upsertGroupState(sql, changes.group.groupId, changes.group.kind, changes.group.state, changes.group.at, changes.group.name);
}

/** Follow / unfollow, applied only when newer than what is stored (events can arrive out of order). */
export async function upsertUserState(sql: Sql, userId: string, state: "following" | "blocked", at: number): Promise<void> {
  await sql.query(
    `INSERT INTO line_users (user_id, state, changed_at) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at
     WHERE excluded.changed_at >= line_users.changed_at`,
    [userId, state, at],
  );
}

/** Join / leave, applied only when newer; a name is kept whichever event is newer (an older join's lookup still names the group). */
export async function upsertGroupState(sql: Sql, groupId: string, kind: "group" | "room", state: "joined" | "left", at: number, name?: string): Promise<void> {
  await sql.query(
    `INSERT INTO line_groups (group_id, kind, state, changed_at, name) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (group_id) DO UPDATE SET
       state = CASE WHEN excluded.changed_at >= line_groups.changed_at THEN excluded.state ELSE line_groups.state END,
       kind = excluded.kind,
       changed_at = GREATEST(excluded.changed_at, line_groups.changed_at),
       name = COALESCE(excluded.name, line_groups.name)`,
    [groupId, kind, state, at, name ?? null],
  );
}

export async function listGroupsIn(sql: Sql): Promise<GroupRow[]> {
  const { rows } = await sql.query<{ group_id: string; kind: "group" | "room"; state: "joined" | "left"; changed_at: number; name: string | null }>(
    `SELECT group_id, kind, state, changed_at, name FROM line_groups ORDER BY changed_at DESC, group_id`,
  );
  return rows.map((row) => ({
    groupId: row.group_id,
    kind: row.kind,
    state: row.state,
    changedAt: row.changed_at,
    ...(row.name !== null ? { name: row.name } : {}),
  }));
}

interface AcknowledgementDbRow {
  delivery_id: string;
  user_id: string;
  button_id: string;
  event_id: string;
  display_name: string | null;
  tapped_at: number;
  state: "writing" | "commenting" | "written";
  written_at: number | null;
  effects: string | null;
  comment_id: string | null;
  commenting_at: number | null;
}

const ACK_COLUMNS = `delivery_id, user_id, button_id, event_id, display_name, tapped_at, state, written_at, effects, comment_id, commenting_at`;

const toAcknowledgement = (row: AcknowledgementDbRow): AcknowledgementRow => ({
  deliveryId: row.delivery_id,
  userId: row.user_id,
  buttonId: row.button_id,
  eventId: row.event_id,
  displayName: row.display_name,
  tappedAt: row.tapped_at,
  state: row.state,
  writtenAt: row.written_at,
  effects: row.effects,
  commentId: row.comment_id,
  commentingAt: row.commenting_at,
});

/** The WHERE of one acknowledgement ($1 to $3, ackKey's values). */
export const ACK_KEY = `delivery_id = $1 AND user_id = $2 AND button_id = $3`;
export const ackKey = (key: AcknowledgementKey): string[] => [key.deliveryId, key.userId, key.buttonId];

export async function readAcknowledgements(sql: Sql, where: string, values: unknown[]): Promise<AcknowledgementRow[]> {
  const { rows } = await sql.query<AcknowledgementDbRow>(`SELECT ${ACK_COLUMNS} FROM acknowledgements WHERE ${where} ORDER BY tapped_at`, values);
  return rows.map(toAcknowledgement);
}

/**
 * In the caller's transaction. Two taps at once: the second insert waits for the first's commit,
 * then does nothing, and reads the first's row.
 */
export async function claimAcknowledgementIn(
  sql: Sql,
  key: AcknowledgementKey,
  eventId: string,
  tappedAt: number,
  effects: string,
): Promise<{ first: boolean; ack: AcknowledgementRow }> {
  const { rowCount } = await sql.query(
    `INSERT INTO acknowledgements (delivery_id, user_id, button_id, event_id, tapped_at, state, effects)
     VALUES ($1, $2, $3, $4, $5, 'writing', $6) ON CONFLICT DO NOTHING`,
    [...ackKey(key), eventId, tappedAt, effects],
  );
  // A row claimed before effects were stored gets them now; one that has them keeps them.
  const { rows } = await sql.query<AcknowledgementDbRow>(`UPDATE acknowledgements SET effects = COALESCE(effects, $4) WHERE ${ACK_KEY} RETURNING ${ACK_COLUMNS}`, [
    ...ackKey(key),
    effects,
  ]);
  const row = rows[0];
  if (!row) throw new Error(`acknowledgement ${key.deliveryId}/${key.userId}/${key.buttonId} vanished`);
  return { first: rowCount === 1, ack: toAcknowledgement(row) };
}

/**
 * used_event: who holds it; used_at: when its write landed (spent). A holder whose event is no
 * longer pending ended without landing the write, so its claim has lapsed. Two events claiming
 * at once: the second waits for the first's row lock, then re-checks the row the first wrote.
 */
export async function claimLinkCodeIn(sql: Sql, code: string, userId: string, eventId: string, now: number): Promise<LinkCodeRow | undefined> {
  const { rows } = await sql.query<{
    code: string;
    app_id: string;
    record_id: string;
    field: string;
    created_at: number;
    expires_at: number;
    used_by: string | null;
  }>(
    `UPDATE link_codes SET used_by = $1, used_event = $2
     WHERE code = $3 AND (used_event = $2 OR (used_at IS NULL AND expires_at > $4 AND (used_event IS NULL OR NOT EXISTS (
       SELECT 1 FROM webhook_events WHERE webhook_events.event_id = link_codes.used_event AND webhook_events.state = 'pending'))))
     RETURNING code, app_id, record_id, field, created_at, expires_at, used_by`,
    [userId, eventId, code, now],
  );
  const row = rows[0];
  return (
    row && {
      code: row.code,
      appId: row.app_id,
      recordId: row.record_id,
      field: row.field,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      usedBy: row.used_by,
    }
  );
}
