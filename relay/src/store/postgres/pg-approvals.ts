import type pg from "pg";
import {
  stepStands,
  STEP_CHANGE_COLUMNS,
  stepChangeValue,
  toApprovalStep,
  type ApprovalStepChanges,
  type ApprovalStepClaim,
  type ApprovalStepDbRow,
  type ApprovalStepKey,
  type ApprovalStepRow,
  type ApprovalStore,
  type DeliveryRecipientUser,
} from "../../approvals/approval-store.js";
import { inTransaction, type Sql } from "./pg-connection.js";

/** Approvals' state in PostgreSQL, shared by every relay instance (sqlite-approvals.ts is the same on SQLite). */
export const PG_APPROVALS_MIGRATION = `
  -- Which kintone user each LINE recipient of a delivery was reached as (recipients.assignees /
  -- recipients.users): a tap on an action button acts as that user only. Written before the
  -- dispatch; no foreign key, since a dispatch that lost its race commits no delivery.
  CREATE TABLE delivery_recipient_users (
    delivery_id TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    kintone_user_code TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, line_user_id)
  );
  CREATE INDEX delivery_recipient_users_created ON delivery_recipient_users (created_at);

  -- A tap on an action button, claimed once per (delivery, LINE user, button) before any kintone
  -- call; revision: what the status call is made with (fixed before it is made).
  CREATE TABLE approval_steps (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    button_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kintone_user_code TEXT NOT NULL,
    app_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    expected_status TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('asking_reason', 'commenting', 'choosing_assignee', 'acting', 'done')),
    revision BIGINT,
    assignee TEXT,
    candidates TEXT,
    reason TEXT,
    reason_until BIGINT,
    reason_event_id TEXT,
    commenting_at BIGINT,
    comment_id TEXT,
    outcome TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (delivery_id, line_user_id, button_id)
  );
  CREATE INDEX approval_steps_waiting ON approval_steps (line_user_id, reason_until) WHERE state = 'asking_reason';
  CREATE INDEX approval_steps_reason_event ON approval_steps (reason_event_id) WHERE reason_event_id IS NOT NULL;
  CREATE INDEX approval_steps_created ON approval_steps (created_at);
`;

/** Pruning steps in pg-prune.ts's form ($1 the cutoff, $2 the batch): ended steps, lapsed questions, recipient users. */
export const PG_APPROVALS_PRUNE_STEPS: readonly string[] = [
  `DELETE FROM approval_steps WHERE ctid = ANY(ARRAY(SELECT ctid FROM approval_steps WHERE created_at < $1
     AND (state = 'done' OR (state = 'asking_reason' AND reason_until < $1)) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  `DELETE FROM delivery_recipient_users WHERE ctid = ANY(ARRAY(SELECT ctid FROM delivery_recipient_users WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
];

export class PostgresApprovalStore implements ApprovalStore {
  constructor(private readonly pool: pg.Pool) {}

  private get sql(): Sql {
    return this.pool;
  }

  async rememberRecipientUsers(rows: readonly DeliveryRecipientUser[], now: number): Promise<void> {
    if (rows.length === 0) return;
    await this.sql.query(
      `INSERT INTO delivery_recipient_users (delivery_id, line_user_id, kintone_user_code, created_at)
       SELECT d, l, k, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t (d, l, k)
       ON CONFLICT (delivery_id, line_user_id) DO NOTHING`,
      [rows.map((r) => r.deliveryId), rows.map((r) => r.lineUserId), rows.map((r) => r.kintoneUserCode), now],
    );
  }

  async recipientUser(deliveryId: string, lineUserId: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<{ kintone_user_code: string }>(
      `SELECT kintone_user_code FROM delivery_recipient_users WHERE delivery_id = $1 AND line_user_id = $2`,
      [deliveryId, lineUserId],
    );
    return rows[0]?.kintone_user_code;
  }

  async claimStep(claim: ApprovalStepClaim, now: number): Promise<{ first: boolean; step: ApprovalStepRow }> {
    return inTransaction(this.pool, async (tx) => {
      const byKey = async (lock: boolean) =>
        (
          await tx.query<ApprovalStepDbRow>(
            `SELECT * FROM approval_steps WHERE delivery_id = $1 AND line_user_id = $2 AND button_id = $3${lock ? " FOR UPDATE" : ""}`,
            [claim.deliveryId, claim.lineUserId, claim.buttonId],
          )
        ).rows[0];
      const existing = await byKey(true);
      if (existing) {
        const step = toApprovalStep(existing);
        if (stepStands(step)) return { first: false, step };
        await tx.query(`DELETE FROM approval_steps WHERE id = $1`, [step.id]);
      }
      if (claim.state === "asking_reason") {
        await tx.query(
          `UPDATE approval_steps SET state = 'done', outcome = 'cancelled', detail = 'another question replaced it', updated_at = $1
           WHERE line_user_id = $2 AND state = 'asking_reason'`,
          [now, claim.lineUserId],
        );
      }
      const { rows } = await tx.query<ApprovalStepDbRow>(
        `INSERT INTO approval_steps (id, delivery_id, line_user_id, button_id, event_id, kintone_user_code, app_id, record_id, action,
                                     expected_status, state, revision, reason_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
         ON CONFLICT (delivery_id, line_user_id, button_id) DO NOTHING RETURNING *`,
        [
          claim.id,
          claim.deliveryId,
          claim.lineUserId,
          claim.buttonId,
          claim.eventId,
          claim.kintoneUserCode,
          claim.appId,
          claim.recordId,
          claim.action,
          claim.expectedStatus,
          claim.state,
          claim.revision,
          claim.reasonUntil,
          now,
        ],
      );
      if (rows[0]) return { first: true, step: toApprovalStep(rows[0]) };
      // Another instance claimed it between the read and the insert: theirs stands.
      const theirs = await byKey(false);
      if (!theirs) throw new Error(`approval step of delivery ${claim.deliveryId} vanished while it was claimed`);
      return { first: false, step: toApprovalStep(theirs) };
    });
  }

  async getStep(key: ApprovalStepKey): Promise<ApprovalStepRow | undefined> {
    const { rows } = await this.sql.query<ApprovalStepDbRow>(`SELECT * FROM approval_steps WHERE delivery_id = $1 AND line_user_id = $2 AND button_id = $3`, [
      key.deliveryId,
      key.lineUserId,
      key.buttonId,
    ]);
    return rows[0] && toApprovalStep(rows[0]);
  }

  async getStepById(id: string): Promise<ApprovalStepRow | undefined> {
    const { rows } = await this.sql.query<ApprovalStepDbRow>(`SELECT * FROM approval_steps WHERE id = $1`, [id]);
    return rows[0] && toApprovalStep(rows[0]);
  }

  async findReasonStep(lineUserId: string, eventId: string, at: number): Promise<ApprovalStepRow | undefined> {
    const { rows } = await this.sql.query<ApprovalStepDbRow>(
      `(SELECT *, 0 AS pick FROM approval_steps WHERE reason_event_id = $2 AND line_user_id = $1)
       UNION ALL
       (SELECT *, 1 AS pick FROM approval_steps WHERE line_user_id = $1 AND state = 'asking_reason' AND reason_until >= $3 ORDER BY created_at DESC, id DESC LIMIT 1)
       ORDER BY pick LIMIT 1`,
      [lineUserId, eventId, at],
    );
    return rows[0] && toApprovalStep(rows[0]);
  }

  async updateStep(id: string, changes: ApprovalStepChanges, now: number): Promise<ApprovalStepRow> {
    const keys = (Object.keys(changes) as Array<keyof ApprovalStepChanges>).filter((key) => changes[key] !== undefined);
    const sets = keys.map((key, i) => `${STEP_CHANGE_COLUMNS[key]} = $${i + 1}`);
    const { rows } = await this.sql.query<ApprovalStepDbRow>(
      `UPDATE approval_steps SET ${[...sets, `updated_at = $${keys.length + 1}`].join(", ")} WHERE id = $${keys.length + 2} RETURNING *`,
      [...keys.map((key) => stepChangeValue(key, changes)), now, id],
    );
    if (!rows[0]) throw new Error(`approval step ${id} does not exist`);
    return toApprovalStep(rows[0]);
  }
}
