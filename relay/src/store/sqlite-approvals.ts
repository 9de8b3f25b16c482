import type Database from "better-sqlite3";
import { transactionsOf } from "./sqlite-transactions.js";
import { lockingWrites } from "./sqlite-write-lock.js";
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
} from "../approvals/approval-store.js";

/** Approvals' state in SQLite (approvals/approval-store.ts says what each table keeps). */
export const SQLITE_APPROVALS_MIGRATION = `
  -- Which kintone user each LINE recipient of a delivery was reached as (recipients.assignees /
  -- recipients.users): a tap on an action button acts as that user only. Written before the
  -- dispatch; no foreign key, since a dispatch that lost its race commits no delivery.
  CREATE TABLE delivery_recipient_users (
    delivery_id TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    kintone_user_code TEXT NOT NULL,
    created_at INTEGER NOT NULL,
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
    revision INTEGER,
    assignee TEXT,
    candidates TEXT,
    reason TEXT,
    reason_until INTEGER,
    reason_event_id TEXT,
    commenting_at INTEGER,
    comment_id TEXT,
    outcome TEXT,
    detail TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (delivery_id, line_user_id, button_id)
  );
  CREATE INDEX approval_steps_waiting ON approval_steps (line_user_id, reason_until) WHERE state = 'asking_reason';
  CREATE INDEX approval_steps_reason_event ON approval_steps (reason_event_id) WHERE reason_event_id IS NOT NULL;
  CREATE INDEX approval_steps_created ON approval_steps (created_at);
`;

/** SqliteStore's pruning (@before, @limit): ended steps, lapsed questions and recipient users older than the cutoff. */
export const SQLITE_APPROVALS_PRUNE_STEPS: readonly string[] = [
  `DELETE FROM approval_steps WHERE rowid IN (SELECT rowid FROM approval_steps WHERE created_at < @before
     AND (state = 'done' OR (state = 'asking_reason' AND reason_until < @before)) LIMIT @limit)`,
  `DELETE FROM delivery_recipient_users WHERE rowid IN (SELECT rowid FROM delivery_recipient_users WHERE created_at < @before LIMIT @limit)`,
];

export class SqliteApprovalStore implements ApprovalStore {
  constructor(private readonly db: Database.Database) {}

  /** A transaction on this connection (see sqlite-transactions.ts). */
  private inTransaction<T>(work: () => T): T {
    return transactionsOf(this.db).run(work);
  }

  /** An IMMEDIATE transaction on this connection (see sqlite-transactions.ts). */
  private inImmediateTransaction<T>(work: () => T): T {
    return transactionsOf(this.db).immediate(work);
  }

  private readonly statements = new Map<string, Database.Statement>();

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = lockingWrites(this.db, this.db.prepare(text));
      this.statements.set(text, statement);
    }
    return statement;
  }

  async rememberRecipientUsers(rows: readonly DeliveryRecipientUser[], now: number): Promise<void> {
    if (rows.length === 0) return;
    const insert = this.sql(
      `INSERT INTO delivery_recipient_users (delivery_id, line_user_id, kintone_user_code, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (delivery_id, line_user_id) DO NOTHING`,
    );
    this.inTransaction(() => {
      for (const row of rows) insert.run(row.deliveryId, row.lineUserId, row.kintoneUserCode, now);
    });
  }

  async recipientUser(deliveryId: string, lineUserId: string): Promise<string | undefined> {
    const row = this.sql(`SELECT kintone_user_code FROM delivery_recipient_users WHERE delivery_id = ? AND line_user_id = ?`).get(deliveryId, lineUserId) as
      | { kintone_user_code: string }
      | undefined;
    return row?.kintone_user_code;
  }

  async claimStep(claim: ApprovalStepClaim, now: number): Promise<{ first: boolean; step: ApprovalStepRow }> {
    return this.inImmediateTransaction(() => {
      const existing = this.byKey(claim);
      if (existing && stepStands(existing)) return { first: false, step: existing };
      if (existing) this.sql(`DELETE FROM approval_steps WHERE id = ?`).run(existing.id);
      if (claim.state === "asking_reason") {
        this.sql(
          `UPDATE approval_steps SET state = 'done', outcome = 'cancelled', detail = 'another question replaced it', updated_at = ?
           WHERE line_user_id = ? AND state = 'asking_reason'`,
        ).run(now, claim.lineUserId);
      }
      this.sql(
        `INSERT INTO approval_steps (id, delivery_id, line_user_id, button_id, event_id, kintone_user_code, app_id, record_id, action,
                                     expected_status, state, revision, reason_until, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
        now,
      );
      return { first: true, step: this.byId(claim.id) as ApprovalStepRow };
    });
  }

  async getStep(key: ApprovalStepKey): Promise<ApprovalStepRow | undefined> {
    return this.byKey(key);
  }

  async getStepById(id: string): Promise<ApprovalStepRow | undefined> {
    return this.byId(id);
  }

  async findReasonStep(lineUserId: string, eventId: string, at: number): Promise<ApprovalStepRow | undefined> {
    const own = this.sql(`SELECT * FROM approval_steps WHERE reason_event_id = ? AND line_user_id = ?`).get(eventId, lineUserId) as ApprovalStepDbRow | undefined;
    if (own) return toApprovalStep(own);
    const waiting = this.sql(
      `SELECT * FROM approval_steps WHERE line_user_id = ? AND state = 'asking_reason' AND reason_until >= ? ORDER BY created_at DESC, id DESC LIMIT 1`,
    ).get(lineUserId, at) as ApprovalStepDbRow | undefined;
    return waiting && toApprovalStep(waiting);
  }

  async updateStep(id: string, changes: ApprovalStepChanges, now: number): Promise<ApprovalStepRow> {
    const keys = (Object.keys(changes) as Array<keyof ApprovalStepChanges>).filter((key) => changes[key] !== undefined);
    const sets = keys.map((key) => `${STEP_CHANGE_COLUMNS[key]} = ?`);
    // Dynamic column list, fixed per set of keys: few distinct texts, each prepared once.
    this.sql(`UPDATE approval_steps SET ${[...sets, "updated_at = ?"].join(", ")} WHERE id = ?`).run(...keys.map((key) => stepChangeValue(key, changes)), now, id);
    const step = this.byId(id);
    if (!step) throw new Error(`approval step ${id} does not exist`);
    return step;
  }

  private byKey(key: ApprovalStepKey): ApprovalStepRow | undefined {
    const row = this.sql(`SELECT * FROM approval_steps WHERE delivery_id = ? AND line_user_id = ? AND button_id = ?`).get(key.deliveryId, key.lineUserId, key.buttonId) as
      | ApprovalStepDbRow
      | undefined;
    return row && toApprovalStep(row);
  }

  private byId(id: string): ApprovalStepRow | undefined {
    const row = this.sql(`SELECT * FROM approval_steps WHERE id = ?`).get(id) as ApprovalStepDbRow | undefined;
    return row && toApprovalStep(row);
  }
}
