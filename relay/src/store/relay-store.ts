/**
 * The relay's durable state behind one interface: the SQLite store implements it today; a
 * PostgreSQL store (several relay instances, jobs claimed with FOR UPDATE SKIP LOCKED) can
 * implement it later without touching the flows. Every method that changes state commits
 * before it resolves.
 */

import type { ApprovalStore } from "../approvals/approval-store.js";
import type { UserLinkStore } from "../links/user-links.js";

export type JobKind = "notification" | "delivery" | "webhook-event";

/**
 * A claimed job as the store knows its holder: `lease` is a token drawn afresh at each claim.
 * Every call that ends or reschedules a job names the lease it holds; when the job was taken over
 * meanwhile (the lease lapsed and another worker, perhaps another instance, claimed it), the call
 * changes nothing and rejects with LeaseLostError (fencing), so no completion lands twice.
 */
export interface JobLease {
  id: string;
  lease: string;
}

/** The job's lease lapsed and another worker holds it now: this worker's result was refused. */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
  constructor(readonly jobId: string) {
    super(`job ${jobId}: the lease was lost (it lapsed and another worker took the job over); this result was not stored`);
  }
}

export interface Job extends JobLease {
  kind: JobKind;
  refId: string;
  attempts: number;
  createdAt: number;
  /** When the current run of failures began; null when the last attempt did not fail. */
  firstFailedAt: number | null;
  /** When the job began waiting without failing (kintone answering, status not yet the new one); null after a failure. */
  waitingSince: number | null;
  /** The request id of the work this job belongs to (log-context.ts); null when no request started it. */
  requestId: string | null;
}

/** Work given up after RELAY_GIVE_UP_AFTER_MS: GET /v1/dead-letters, `npm run dead-letters`. */
export interface DeadLetterRow {
  id: string;
  jobId: string;
  kind: JobKind;
  refId: string;
  appId: string | null;
  recordId: string | null;
  /** The last failure: what was tried and what the other side said. */
  error: string;
  attempts: number;
  firstFailedAt: number;
  deadAt: number;
  retriedAt: number | null;
}

/** What started a notification: the plugin's request, kintone's status webhook, or a reminder rule. */
export type NotificationSource = "plugin" | "kintone-webhook" | "schedule";

export interface NotificationInput {
  appId: string;
  recordId: string;
  /** "" when unknown (a kintone webhook does not say which action ran; a reminder has none). */
  action: string;
  /** The status before; "" when unknown. */
  status: string;
  nextStatus: string;
  /** The rule set v1 JSON string exactly as kintone's proxy injected it (or as the relay stored it). */
  rules: string;
  /** Default "plugin". */
  source?: NotificationSource;
  /** The app's stored rule-set version `rules` is; null until known (a plugin request's is looked up by the worker). */
  rulesVersion?: number | null;
  /** A reminder: its one rule, and the date value (YYYY-MM-DD) it is about. */
  ruleId?: string | null;
  subjectDate?: string | null;
}

export type NotificationState =
  | "pending"
  | "dispatched"
  | "not_confirmed"
  | "no_match"
  | "record_missing"
  | "failed"
  /** The record has not changed status since this change was notified: a replay, nothing sent. */
  | "already_notified";

export interface NotificationRow extends NotificationInput {
  id: string;
  source: NotificationSource;
  rulesVersion: number | null;
  ruleId: string | null;
  subjectDate: string | null;
  state: NotificationState;
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * capped: not pushed, the month's RELAY_MONTHLY_PUSH_CAP (or LINE's own monthly limit) was reached.
 * not_linked: a kintone user the rule names (an assignee, `recipients.users`) who has not connected
 * a LINE account, or must connect again; listed as `kintone:<login name>`.
 */
export type RecipientState = "pending" | "sent" | "failed" | "blocked" | "invalid" | "capped" | "not_linked";

export interface DeliveryPlan {
  id: string;
  ruleId: string;
  ruleName: string;
  method: "push" | "multicast";
  /** User, group or room IDs this one request goes to. */
  to: string[];
  /** The exact request body, stored so every retry resends identical bytes. */
  body: string;
  retryKey: string;
  /** Buttons as the rule said at send time: what a tap on them writes back. */
  buttons: string;
}

export interface SkippedRecipient {
  ruleId: string;
  recipientId: string;
  state: "invalid" | "blocked" | "not_linked";
  detail: string;
}

export type DeliveryState = "pending" | "sent" | "failed" | "capped";

export interface DeliveryRow extends DeliveryPlan {
  notificationId: string;
  appId: string;
  recordId: string;
  state: DeliveryState;
  attempts: number;
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RecipientOutcome {
  ruleId: string;
  recipientId: string;
  deliveryId: string | null;
  state: RecipientState;
  detail: string | null;
}

/** What the relay last notified for one (app, record, rule): the replay guard's memory. */
export interface NotifiedTransition {
  ruleId: string;
  /** The record's `$revision` when the relay confirmed the status it notified. */
  revision: number;
  /** The status the record was in then. */
  status: string;
  notificationId: string;
  notifiedAt: number;
}

/** Recorded with the deliveries, in their transaction, for each rule that notifies. */
export interface NotifiedTransitionClaim {
  ruleId: string;
  revision: number;
  status: string;
  /**
   * The revision of the row the decision was made on (null: there was none). If another
   * notification recorded a newer one meanwhile, the whole dispatch commits nothing.
   */
  replaces: number | null;
}

export interface EnqueueResult {
  id: string;
  /** True when an identical notification was still pending: its id is returned, nothing stored. */
  duplicate: boolean;
}

export interface InboundEvent {
  /** LINE's webhookEventId: the de-duplication key. */
  eventId: string;
  type: string;
  /** Whose events must run in order: the user, else the group or room. */
  sourceKey: string;
  timestamp: number;
  redelivery: boolean;
  /** The event's JSON as LINE sent it. */
  body: string;
}

export interface WebhookEventRow extends InboundEvent {
  receivedAt: number;
  state: "pending" | "done";
  outcome: string | null;
  replied: boolean;
}

/** What a webhook event's run changed, committed together with the event's end. */
export interface WebhookEventChanges {
  /** LINE accepted the reply (its token is spent). */
  replied?: boolean;
  /** Follow / unfollow (applied only when newer than what is stored, as setUserState). */
  user?: { userId: string; state: "following" | "blocked"; at: number };
  /** Join / leave (applied only when newer, as setGroupState); `name`: the group's name from LINE, kept once known. */
  group?: { groupId: string; kind: "group" | "room"; state: "joined" | "left"; at: number; name?: string };
}

export interface AcknowledgementKey {
  deliveryId: string;
  userId: string;
  buttonId: string;
}

export interface AcknowledgementRow extends AcknowledgementKey {
  eventId: string;
  displayName: string | null;
  tappedAt: number;
  /** writing: fields not yet confirmed written; commenting: the comment may have been posted. */
  state: "writing" | "commenting" | "written";
  writtenAt: number | null;
  /**
   * What this acknowledgement writes (AcknowledgementEffects as JSON), fixed in the transaction
   * that claimed it, before the first kintone write; every re-run writes exactly this.
   * Null only for rows claimed before effects were stored.
   */
  effects: string | null;
  /** The comment's id, once kintone answered the post. */
  commentId: string | null;
  /** When the comment was about to be posted (state commenting). */
  commentingAt: number | null;
}

export interface LinkCodeRow {
  code: string;
  appId: string;
  recordId: string;
  field: string;
  createdAt: number;
  expiresAt: number;
  usedBy: string | null;
}

export interface GroupRow {
  groupId: string;
  kind: "group" | "room";
  state: "joined" | "left";
  changedAt: number;
  /** The group's name as LINE's group summary gave it; absent for rooms and until known. */
  name?: string;
}

/** An app's rule set as the relay keeps it (PUT /v1/apps/{appId}/rules, or carried by a notification). */
export interface AppRulesRow {
  appId: string;
  /** 1, 2, ...: goes up only when the content changes. */
  version: number;
  /** The rule set v1 JSON string. */
  rules: string;
  /** When this version became the current one. */
  updatedAt: number;
}

/** A kintone webhook notification as received (the body is a hint: the relay reads the record itself). */
export interface KintoneWebhookReceipt {
  /** kintone's notification id: the de-duplication key. */
  id: string;
  type: string;
  appId: string;
  recordId: string | null;
  body: string;
  /** What the relay does with it ("notification", "ignored: ...", ...). */
  outcome: string;
}

/** One reminder a day's run enqueues. */
export interface ReminderPlan {
  recordId: string;
  /** The date value the reminder is about (YYYY-MM-DD, the field's day in the rule set's zone). */
  dateValue: string;
  input: NotificationInput;
}

/** What the delivery job may do, decided in the transaction that reserved (or refused) its recipients. */
export type PushReservation =
  /** Counted in `month` (now or by an earlier attempt): push it. */
  | { kind: "push"; month: string }
  /**
   * Not pushed: the delivery and its recipients are `capped` and its job done. `firstThisMonth`
   * is true for the one delivery (across instances) that found the month's cap reached first.
   */
  | { kind: "capped"; reason: "cap" | "line_limit"; month: string; pushed: number; firstThisMonth: boolean };

/** One month's pushes as the relay counted them. */
export interface PushUsage {
  month: string;
  /** Recipients reserved by deliveries pushed (or being pushed) this month. */
  pushed: number;
  /** When LINE answered 429 "monthly limit" this month; null if it has not. */
  lineLimitedAt: number | null;
}

/** Unfinished jobs by kind and state (what /metrics shows as relay_jobs). */
export interface JobCount {
  kind: JobKind;
  state: "pending" | "running";
  count: number;
}

/** A channel access token as the instances share it. */
export interface SharedChannelToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

export type StoreWritable = { ok: true } | { ok: false; message: string };

export interface RelayStore {
  /** kintone users linked to LINE users, and the connect flow that links them (links/user-links.ts). */
  readonly userLinks: UserLinkStore;
  /** Which kintone user each delivery reached, and the process steps taken from LINE (approvals/approval-store.ts). */
  readonly approvals: ApprovalStore;

  enqueueNotification(input: NotificationInput, dedupKey: string, now: number): Promise<EnqueueResult>;
  getNotification(id: string): Promise<NotificationRow | undefined>;
  /** Ends a notification that sends nothing (not confirmed, no matching rule, ...) and its job. */
  finishNotification(job: JobLease, id: string, state: Exclude<NotificationState, "pending" | "dispatched">, detail: string, now: number): Promise<void>;
  /**
   * In one transaction: the deliveries with their recipients, one job per delivery, the skipped
   * recipients, the notification marked dispatched and its job done. Runs at most once per
   * notification: a second call for a dispatched notification changes nothing.
   * `notified` is recorded in the same transaction (the replay guard): when a claim finds the
   * row changed since it was read, nothing at all is committed and `conflict` is true.
   */
  dispatchNotification(
    job: JobLease,
    id: string,
    deliveries: DeliveryPlan[],
    skipped: SkippedRecipient[],
    now: number,
    notified?: NotifiedTransitionClaim[],
  ): Promise<{ conflict: boolean }>;
  /** What was last notified for each rule of one record. */
  listNotifiedTransitions(appId: string, recordId: string): Promise<NotifiedTransition[]>;

  getDelivery(id: string): Promise<DeliveryRow | undefined>;
  /**
   * In one transaction, before a delivery is pushed: a delivery counted in a month already keeps
   * that reservation; otherwise its recipients are added to `month`'s count unless that would pass
   * `cap` (null: no cap, only counted) or LINE said its monthly limit was reached this month. Then
   * the delivery, its recipients and its job end as `capped` instead, and nothing is counted.
   */
  reservePush(job: JobLease, deliveryId: string, month: string, cap: number | null, now: number): Promise<PushReservation>;
  /**
   * LINE answered 429 "monthly limit": the delivery and its recipients end `capped`, its
   * reservation is given back, and the month is marked so nothing more is pushed in it.
   */
  capDeliveryAtLineLimit(job: JobLease, deliveryId: string, month: string, detail: string, now: number): Promise<{ firstThisMonth: boolean }>;
  getPushUsage(month: string): Promise<PushUsage>;
  /** `failed` (LINE refused it) gives back the delivery's monthly reservation: LINE counts no refused message. */
  finishDelivery(job: JobLease, id: string, state: "sent" | "failed", detail: string | null, now: number): Promise<void>;
  listRecipientOutcomes(notificationId: string): Promise<RecipientOutcome[]>;
  listRecordDeliveries(appId: string, recordId: string): Promise<DeliveryRow[]>;
  /** The app's newest `limit` notifications, newest first (the settings page's Deliveries tab). */
  listAppNotifications(appId: string, limit: number): Promise<NotificationRow[]>;

  /** Marks a job done whose work was already finished by an earlier run. */
  finishJob(job: JobLease): Promise<void>;
  /**
   * Deletes what finished before `before` from every table (jobs, notifications, deliveries,
   * recipients, acknowledgements, webhook events, link codes, dead letters), `batchSize` rows per
   * transaction, yielding to the event loop between transactions. Pending work is kept.
   */
  pruneFinished(before: number, batchSize?: number): Promise<number>;

  /**
   * Takes the next due job (runAt <= now) of one of `kinds` (all kinds when absent) and leases it;
   * undefined when none is due. Cost does not grow with the queue: an index seek per kind.
   * A running job whose lease lapsed (its worker died or stalled) is due again: it is taken over
   * under a new lease, and its old holder's results are refused (LeaseLostError).
   */
  claimJob(now: number, leaseMs: number, kinds?: readonly JobKind[]): Promise<Job | undefined>;
  /**
   * Up to `limit` due jobs of `kinds`, earliest first, leased in one transaction. Only ready jobs
   * are taken (at most one per order key: a user's next event), so order is kept as in claimJob.
   */
  claimJobs(now: number, leaseMs: number, kinds: readonly JobKind[], limit: number): Promise<Job[]>;
  /**
   * Gives a job back to run again at `runAt` (attempts + 1). `outcome.failed`: the attempt failed
   * (the give-up clock starts if it was not running; the wait clock stops); otherwise it waits
   * without failing (the wait clock starts if not running; the give-up clock stops).
   */
  retryJob(job: JobLease, runAt: number, note: string, outcome?: { failed: boolean; now: number }): Promise<void>;
  /**
   * Milliseconds until the next pending job is due (0 = now), or undefined when none waits. A store
   * shared by instances also counts the earliest lease to lapse (its job will be due then).
   */
  nextDueIn(now: number): Promise<number | undefined>;
  /** Jobs not yet done (pending or running): what the queue bound counts. */
  countUnfinishedJobs(): Promise<number>;
  /** Unfinished jobs grouped by kind and state. */
  countJobsByState(): Promise<JobCount[]>;
  /** Dead letters not yet retried. */
  countOpenDeadLetters(): Promise<number>;

  /**
   * Ends a job that kept failing: the job is done, what it works on is marked failed (a
   * notification, a delivery) or done (a webhook event) with `error`, and a dead letter keeps the
   * rest (the delivery's body and retry key stay in its row). One transaction.
   */
  deadLetterJob(job: JobLease, error: string, now: number): Promise<DeadLetterRow>;
  /** Dead letters not yet retried, oldest first. */
  listDeadLetters(limit?: number): Promise<DeadLetterRow[]>;
  getDeadLetter(id: string): Promise<DeadLetterRow | undefined>;
  /**
   * Runs a dead letter's work again as it was (same job, same delivery body and retry key): the
   * work becomes pending and the job due now. `not_found`: no such dead letter; `already_retried`;
   * `conflict`: an identical notification is pending again meanwhile (it would be a second one).
   */
  retryDeadLetter(id: string, now: number): Promise<{ ok: true; jobId: string } | { ok: false; reason: "not_found" | "already_retried" | "conflict" }>;
  /**
   * At start: jobs a dead process left running become pending again. SQLite (one relay process per
   * file): every running job. PostgreSQL (instances come and go): none, since another instance may
   * be alive and working on them; a lapsed lease is taken over by the next claim instead.
   */
  releaseOrphanedLeases(): Promise<number>;
  /**
   * A live worker keeps its leases: each job still held under `lease` gets `until` as its new
   * expiry. Returns the jobs whose lease was lost (lapsed and claimed by another worker, or ended).
   */
  extendLeases(jobs: readonly JobLease[], until: number): Promise<JobLease[]>;
  /**
   * Subscribes to "work was enqueued" from any instance sharing the store (PostgreSQL
   * LISTEN/NOTIFY), so a worker picks it up at once; returns the unsubscribe. Absent when only
   * this process enqueues (SQLite: the routes wake the worker directly).
   */
  onJobsAvailable?(listener: () => void): () => void;
  /**
   * The LINE channel access token shared by the instances of one store (v2.1 tokens are limited
   * per channel): the stored token for `key` when it stays valid until `validUntil`; otherwise
   * `issue()` runs under a lock held across instances, so one instance issues and the others read
   * its token. Absent in stores used by one process (each process keeps its token in memory).
   */
  sharedChannelToken?(key: string, validUntil: number, issue: () => Promise<SharedChannelToken>): Promise<SharedChannelToken>;
  /** LINE refused `token` (401): the next sharedChannelToken call issues a new one. */
  forgetChannelToken?(key: string, token: string): Promise<void>;

  /**
   * Commits the new events of one webhook request and a job for each, in one transaction.
   * Events whose webhookEventId was seen before are dropped (LINE resends; users tap twice).
   */
  storeWebhookEvents(events: InboundEvent[], now: number): Promise<{ stored: number; duplicates: number }>;
  getWebhookEvent(eventId: string): Promise<WebhookEventRow | undefined>;
  /**
   * Ends the event and its job in one transaction, with what its run changed (`changes`): one
   * commit per event instead of one per change.
   */
  finishWebhookEvent(job: JobLease, eventId: string, outcome: string, changes?: WebhookEventChanges): Promise<void>;
  /** LINE accepted the event's reply: a re-run must not spend the token again. */
  markReplied(eventId: string): Promise<void>;

  getAcknowledgement(key: AcknowledgementKey): Promise<AcknowledgementRow | undefined>;
  /**
   * Claims the acknowledgement of (delivery, user, button) for this event, with its effects, in one
   * transaction. `first` is true for the event that created it; an existing one is returned as it
   * stands (its effects, if it had any, are kept: the first decision wins).
   */
  claimAcknowledgement(key: AcknowledgementKey, eventId: string, tappedAt: number, effects: string): Promise<{ first: boolean; ack: AcknowledgementRow }>;
  /** Committed right before the comment is posted, so a re-run knows to look for it first. */
  markAcknowledgementCommenting(key: AcknowledgementKey, now: number): Promise<void>;
  /** The id kintone gave the comment (from its answer, or found again by a re-run). */
  setAcknowledgementComment(key: AcknowledgementKey, commentId: string): Promise<void>;
  /** Comment ids that acknowledgements of deliveries of this record hold: not anyone else's to claim. */
  listAcknowledgementCommentIds(appId: string, recordId: string): Promise<string[]>;
  completeAcknowledgement(key: AcknowledgementKey, displayName: string, now: number): Promise<void>;
  listAcknowledgements(deliveryIds: string[]): Promise<AcknowledgementRow[]>;

  /** Follow / unfollow, applied only when newer than what is stored (events can arrive out of order). */
  setUserState(userId: string, state: "following" | "blocked", at: number): Promise<void>;
  isBlocked(userId: string): Promise<boolean>;
  setGroupState(groupId: string, kind: "group" | "room", state: "joined" | "left", at: number): Promise<void>;
  listGroups(): Promise<GroupRow[]>;
  /** Keeps a group's name (from LINE's group summary); a group the relay does not know is left alone. */
  setGroupName(groupId: string, name: string): Promise<void>;

  createLinkCode(row: Omit<LinkCodeRow, "usedBy">): Promise<void>;
  /**
   * Reserves the code for this event (and `userId`) if it exists, is not spent, is unexpired and
   * no other pending event holds it, and returns it. The same event asking again (a retried or
   * re-run job) gets it again, spent or not; anyone else gets undefined. A reservation whose event
   * ended without completing it (the write failed) lapses: the code is usable again.
   */
  claimLinkCode(code: string, userId: string, eventId: string, now: number): Promise<LinkCodeRow | undefined>;
  /** Spends the code this event claimed: called once its write to kintone has landed. */
  completeLinkCode(code: string, eventId: string, now: number): Promise<void>;
  /** Records one wrong guess and returns how many the user made since `since`. */
  recordLinkMiss(userId: string, now: number, since: number): Promise<number>;
  countLinkMisses(userId: string, since: number): Promise<number>;

  /**
   * Makes `rules` the app's current rule set: the same content as the current one keeps its
   * version (nothing is written); other content becomes a new version. Each content is stored
   * once, by its hash, however many versions use it.
   */
  saveAppRules(appId: string, rules: string, now: number): Promise<{ version: number; changed: boolean }>;
  getAppRules(appId: string): Promise<AppRulesRow | undefined>;

  /** The current rule set of every app that has one. */
  listAppRuleSets(): Promise<AppRulesRow[]>;
  /** The newest version of the app whose content is exactly `rules`, if any. */
  findAppRulesVersion(appId: string, rules: string): Promise<number | undefined>;
  /** Records which stored rule-set version a notification used. */
  setNotificationRulesVersion(id: string, version: number): Promise<void>;

  /**
   * Commits a kintone webhook notification and, when given, the notification it starts with its
   * job, in one transaction. A notification id seen before is dropped (`duplicate`), nothing stored.
   */
  storeKintoneWebhook(
    receipt: KintoneWebhookReceipt,
    now: number,
    notification?: { input: NotificationInput; dedupKey: string },
  ): Promise<{ duplicate: boolean; notificationId?: string }>;
  /** The relay saw the record in `status` at `revision` (a read, a webhook body). */
  recordStatusSeen(appId: string, recordId: string, revision: number, status: string, now: number): Promise<void>;
  /** The status of the newest revision seen before `revision`, if any. */
  lastStatusSeenBefore(appId: string, recordId: string, revision: number): Promise<{ revision: number; status: string } | undefined>;

  /** Whether (app, rule, day)'s reminders already ran. */
  hasReminderRun(appId: string, ruleId: string, day: string): Promise<boolean>;
  /**
   * In one transaction: claims (app, rule, day) and enqueues each reminder whose (rule, record,
   * date value) was not reminded before. `claimed` is false, and nothing is stored, when the day
   * was claimed already (another run, another instance).
   */
  claimReminderRun(appId: string, ruleId: string, day: string, reminders: ReminderPlan[], now: number): Promise<{ claimed: boolean; enqueued: number }>;

  /** Whether the store can still commit (disk full, read-only...): a tiny write, made at most every few seconds. */
  checkWritable(): Promise<StoreWritable>;

  close(): Promise<void>;
}
