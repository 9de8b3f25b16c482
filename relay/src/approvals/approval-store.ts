/**
 * What approvals keep (SQLite: store/sqlite-approvals.ts, PostgreSQL: store/postgres/pg-approvals.ts):
 *
 * - which kintone user each LINE recipient of a delivery was sent to as (`recipients.assignees` /
 *   `recipients.users`), written before the deliveries are dispatched: a tap acts as that user only;
 * - one step per (delivery, LINE user, button): the tap's claim, stored before any kintone call,
 *   with what the step is decided on (the revision read as the user), where it stands (waiting for
 *   a reason, posting it, waiting for the next assignee's choice, acting) and how it ended.
 *
 * Events of one LINE user run one at a time, in order (the inbox orders them by user), so a step,
 * which belongs to one LINE user, is never changed by two runs at once; taps of two users are two
 * steps, and kintone's revision check decides between them.
 */

/** A LINE recipient of a delivery and the kintone user it was reached as. */
export interface DeliveryRecipientUser {
  deliveryId: string;
  lineUserId: string;
  kintoneUserCode: string;
}

export type StepState =
  /** The user was asked for a reason (askReason); their next text message until `reasonUntil` gives it. */
  | "asking_reason"
  /** The reason is about to be posted as the user's comment (`commentingAt`): a re-run looks for it first. */
  | "commenting"
  /** kintone wants the next assignee named (GAIA_SA01): the user was offered `candidates`. */
  | "choosing_assignee"
  /** The status call is (about to be) made with `revision`; a re-run never reads a newer one. */
  | "acting"
  | "done";

/**
 * How a step ended. `done`, `already_done` and `not_yours` are final: a later tap is answered from
 * them. The others leave the record unchanged and a later tap may try again (after connecting again,
 * after kintone's refusal was fixed, after a cancelled reason).
 */
export type StepOutcome = "done" | "already_done" | "not_yours" | "reconnect" | "refused" | "cancelled";

export const FINAL_OUTCOMES: readonly StepOutcome[] = ["done", "already_done", "not_yours"];

/** A step a new tap cannot claim again: still under way, or ended in a final outcome. */
export const stepStands = (step: Pick<ApprovalStepRow, "state" | "outcome">): boolean =>
  step.state !== "done" || step.outcome === null || FINAL_OUTCOMES.includes(step.outcome);

export interface ApprovalStepKey {
  deliveryId: string;
  lineUserId: string;
  buttonId: string;
}

/** What a tap claims: the step's key, who acts, on what, and where it starts. */
export interface ApprovalStepClaim extends ApprovalStepKey {
  /** Named in the signed postback of the next-assignee quick replies. */
  id: string;
  /** The tap's webhookEventId. */
  eventId: string;
  kintoneUserCode: string;
  appId: string;
  recordId: string;
  action: string;
  /** The status the notification confirmed (the step must start from it); "" when unknown (a reminder). */
  expectedStatus: string;
  state: "asking_reason" | "acting";
  revision: number | null;
  reasonUntil: number | null;
}

export interface ApprovalStepRow extends Omit<ApprovalStepClaim, "state"> {
  state: StepState;
  /** The next assignee's login name, once chosen. */
  assignee: string | null;
  /** The next assignee's candidates the user was offered, in the quick replies' order. */
  candidates: Array<{ code: string; name: string }>;
  reason: string | null;
  /** The text event that gave the reason. */
  reasonEventId: string | null;
  commentingAt: number | null;
  commentId: string | null;
  outcome: StepOutcome | null;
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ApprovalStepChanges = Partial<
  Pick<
    ApprovalStepRow,
    "eventId" | "state" | "revision" | "assignee" | "candidates" | "reason" | "reasonUntil" | "reasonEventId" | "commentingAt" | "commentId" | "outcome" | "detail"
  >
>;

export interface ApprovalStore {
  /** Committed before the deliveries they name are dispatched (rows of a dispatch that lost its race are never read). */
  rememberRecipientUsers(rows: readonly DeliveryRecipientUser[], now: number): Promise<void>;
  /** The kintone user `lineUserId` was sent `deliveryId` as; undefined when it was sent to a LINE ID (a field, a fixed ID, a group). */
  recipientUser(deliveryId: string, lineUserId: string): Promise<string | undefined>;
  /**
   * Claims the step of (delivery, LINE user, button) for this tap, in one transaction. `first`:
   * this call created it, or replaced one that ended without changing the record and may be tried
   * again (an outcome not in FINAL_OUTCOMES). Otherwise the existing step is returned as it stands.
   * A step that starts by asking a reason ends the user's other steps still waiting for one
   * (cancelled), so a text message is never taken as the reason of an older question.
   */
  claimStep(claim: ApprovalStepClaim, now: number): Promise<{ first: boolean; step: ApprovalStepRow }>;
  getStep(key: ApprovalStepKey): Promise<ApprovalStepRow | undefined>;
  getStepById(id: string): Promise<ApprovalStepRow | undefined>;
  /**
   * The step a text message `eventId` of `lineUserId` answers: the one this event already gave its
   * reason to (a re-run), else the newest step of the user waiting for a reason until `at` or later.
   */
  findReasonStep(lineUserId: string, eventId: string, at: number): Promise<ApprovalStepRow | undefined>;
  /** Applies `changes` and returns the step as stored. */
  updateStep(id: string, changes: ApprovalStepChanges, now: number): Promise<ApprovalStepRow>;
}

/** A step row as both stores read it back (JSON candidates, outcome narrowed). */
export interface ApprovalStepDbRow {
  id: string;
  delivery_id: string;
  line_user_id: string;
  button_id: string;
  event_id: string;
  kintone_user_code: string;
  app_id: string;
  record_id: string;
  action: string;
  expected_status: string;
  state: StepState;
  revision: number | string | null;
  assignee: string | null;
  candidates: string | null;
  reason: string | null;
  reason_until: number | string | null;
  reason_event_id: string | null;
  commenting_at: number | string | null;
  comment_id: string | null;
  outcome: string | null;
  detail: string | null;
  created_at: number | string;
  updated_at: number | string;
}

const OUTCOMES: readonly string[] = ["done", "already_done", "not_yours", "reconnect", "refused", "cancelled"] satisfies StepOutcome[];
const num = (value: number | string): number => (typeof value === "number" ? value : Number(value));
const numOrNull = (value: number | string | null): number | null => (value === null ? null : num(value));

export function toApprovalStep(row: ApprovalStepDbRow): ApprovalStepRow {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    lineUserId: row.line_user_id,
    buttonId: row.button_id,
    eventId: row.event_id,
    kintoneUserCode: row.kintone_user_code,
    appId: row.app_id,
    recordId: row.record_id,
    action: row.action,
    expectedStatus: row.expected_status,
    state: row.state,
    revision: numOrNull(row.revision),
    assignee: row.assignee,
    candidates: row.candidates ? (JSON.parse(row.candidates) as ApprovalStepRow["candidates"]) : [],
    reason: row.reason,
    reasonUntil: numOrNull(row.reason_until),
    reasonEventId: row.reason_event_id,
    commentingAt: numOrNull(row.commenting_at),
    commentId: row.comment_id,
    outcome: row.outcome !== null && OUTCOMES.includes(row.outcome) ? (row.outcome as StepOutcome) : null,
    detail: row.detail,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/** Column of each changeable field, for the stores' UPDATE. */
export const STEP_CHANGE_COLUMNS: Record<keyof ApprovalStepChanges, string> = {
  eventId: "event_id",
  state: "state",
  revision: "revision",
  assignee: "assignee",
  candidates: "candidates",
  reason: "reason",
  reasonUntil: "reason_until",
  reasonEventId: "reason_event_id",
  commentingAt: "commenting_at",
  commentId: "comment_id",
  outcome: "outcome",
  detail: "detail",
};

/** The value stored for a change (candidates as JSON). */
export function stepChangeValue(key: keyof ApprovalStepChanges, changes: ApprovalStepChanges): string | number | null {
  if (key === "candidates") return JSON.stringify(changes.candidates ?? []);
  const value = changes[key];
  return value === undefined ? null : (value as string | number | null);
}
