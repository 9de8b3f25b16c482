import { relayTexts, type Language, type RelayTexts } from "../../../common/i18n/relay-texts.js";
import { buttonSchema, type Button } from "../../../common/rules/rule-set.js";
import type { Clock } from "../clock.js";
import { newId } from "../ids.js";
import { KintoneError, type KintoneClient } from "../kintone/kintone-client.js";
import { UserNotLinkedError, UserReconnectNeededError, type ActAsUser } from "../links/act-as-user.js";
import type { Logger } from "../logger.js";
import type { PostbackTarget, PostbackTokens } from "../postback-token.js";
import type { DeliveryRow, RelayStore, WebhookEventRow } from "../store/relay-store.js";
import { textsForNotification } from "../webhook/reply-texts.js";
import { stepStands, type ApprovalStepRow, type StepOutcome } from "./approval-store.js";
import { enqueueNextStep } from "./next-step.js";
import { recordStateOf, type RecordState } from "./read-record.js";
import { MAX_QUICK_REPLIES, fillText, outcomeText, type QuickChoice, type ReplyChoices, type ReplyOnce } from "./step-replies.js";

/**
 * Buttons that take a process-management step as the kintone user who taps them.
 *
 * A tap: the tapper's link (none, or one kintone refused: "connect") -> the record read as that
 * user -> if it is still in the status the message was about, the step is claimed (stored, with
 * the revision just read) before kintone is asked -> `PUT /k/v1/record/status.json` as the user
 * with that revision. kintone decides: done; GAIA_IL03 / GAIA_CO02 (someone moved it first, or
 * the status changed): "already done", never retried; GAIA_NT01: "no longer yours"; GAIA_SA01:
 * the next assignee is asked for with quick replies, then the step is run with the choice.
 *
 * At most once: the claim (one per delivery, LINE user and button) is committed before the first
 * kintone call, and the revision it holds is the only one the call is ever made with. A re-run
 * after a crash makes the same call: if the first one landed, kintone refuses the old revision,
 * and the record read back (revision one or two on, last modified by this user) says it was ours.
 * Two assignees tapping at once read the same revision; kintone takes the first call and refuses
 * the second (GAIA_CO02): one step, one "already done". Never falls back to the API token.
 */
export interface ApprovalDeps {
  store: RelayStore;
  /** Reads for the relay itself (the next status, comments already posted), with the API token. */
  kintone: KintoneClient;
  /** Present when kintone OAuth is configured; without it an action button is refused. */
  actAsUser?: ActAsUser;
  tokens: PostbackTokens;
  clock: Clock;
  logger: Logger;
  replyOnce: ReplyOnce;
  replyChoices?: ReplyChoices;
  /** RELAY_LANGUAGE: when the delivery's rule set names none. */
  language?: Language;
}

/** How long a question for a reason waits for the user's next text message. */
export const REASON_WINDOW_MS = 10 * 60_000;

/** Step ids sign the next-assignee quick replies in place of a delivery id ("d_…"), so they never meet. */
const STEP_PREFIX = "st";
export const isStepId = (id: string) => id.startsWith(`${STEP_PREFIX}_`);

/** A quick reply's "button id": the candidate's index. */
const CHOICE = /^a([0-9]{1,2})$/;

/** One event's view of a step: where to answer and in which words. */
export interface StepContext {
  deps: ApprovalDeps & { actAsUser: ActAsUser };
  row: WebhookEventRow;
  replyToken: string | undefined;
  texts: RelayTexts;
  /** The button's own reply, shown once the step was taken. */
  doneText: string | undefined;
}

const reply = (ctx: StepContext, texts: string[]) => ctx.deps.replyOnce(ctx.row, ctx.replyToken, texts);

/** A tap on a button with an `action`, by a recipient of the delivery. Returns the event's outcome. */
export async function takeStepOnTap(
  deps: ApprovalDeps,
  row: WebhookEventRow,
  replyToken: string | undefined,
  delivery: DeliveryRow,
  button: Button & { action: string },
  lineUserId: string,
): Promise<string> {
  const texts = await textsForNotification(deps.store, delivery.notificationId, deps.language ?? "ja");
  if (!deps.actAsUser) {
    deps.logger.warn("action button tapped, but kintone OAuth is not configured: nobody can act as a user", { delivery: delivery.id, button: button.id });
    await deps.replyOnce(row, replyToken, [texts.unknown]);
    return "refused: approvals are not configured";
  }
  const ctx: StepContext = { deps: { ...deps, actAsUser: deps.actAsUser }, row, replyToken, texts, doneText: button.reply };
  const { store } = deps;
  const key = { deliveryId: delivery.id, lineUserId, buttonId: button.id };

  const existing = await store.approvals.getStep(key);
  if (existing && stepStands(existing)) return resumeStep(ctx, existing);

  const link = await store.userLinks.getLinkByLineUser(lineUserId);
  if (!link) {
    await reply(ctx, [texts.connectFirst]);
    return "refused: no kintone account connected";
  }
  if (link.state !== "active") {
    await reply(ctx, [texts.connectAgain]);
    return "refused: must connect again";
  }
  // A message sent to a kintone user acts as that user only (the LINE user may have linked another since).
  const sentAs = await store.approvals.recipientUser(delivery.id, lineUserId);
  if (sentAs !== undefined && sentAs !== link.kintoneUserCode) {
    await reply(ctx, [texts.notYours]);
    return `refused: sent to kintone user ${sentAs}, tapped by ${link.kintoneUserCode}`;
  }
  const notification = await store.getNotification(delivery.notificationId);
  // A reminder is about a date, not a status: no status to hold the step to.
  const expectedStatus = notification && notification.source !== "schedule" ? notification.nextStatus : "";

  const read = await readAsUser(ctx, link.kintoneUserCode, delivery.appId, delivery.recordId);
  if (typeof read === "string") return read;
  if (expectedStatus !== "" && read.status !== expectedStatus) {
    await reply(ctx, [texts.stepAlreadyDone]);
    return `already done: the record is in "${read.status}" now, not "${expectedStatus}"`;
  }
  const base = {
    ...key,
    id: newId(STEP_PREFIX),
    eventId: row.eventId,
    kintoneUserCode: link.kintoneUserCode,
    appId: delivery.appId,
    recordId: delivery.recordId,
    action: button.action,
    expectedStatus,
  };
  const now = deps.clock.now();
  if (button.askReason === true) {
    // kintone would refuse a non-assignee's step: do not ask them for a reason first.
    if (read.assignees.length > 0 && !read.assignees.includes(link.kintoneUserCode)) {
      await reply(ctx, [texts.stepNotYours]);
      return "refused: not an assignee";
    }
    const { first, step } = await store.approvals.claimStep({ ...base, state: "asking_reason", revision: null, reasonUntil: now + REASON_WINDOW_MS }, now);
    if (!first) return resumeStep(ctx, step);
    await reply(ctx, [fillText(texts.askReason, { action: button.action })]);
    return "asked for a reason";
  }
  const { first, step } = await store.approvals.claimStep({ ...base, state: "acting", revision: read.revision, reasonUntil: null }, now);
  return runStep(ctx, step, !first);
}

/**
 * A step this user already has for this button: answered from how it ended, asked again, or
 * carried on where an earlier run of an event stopped.
 */
async function resumeStep(ctx: StepContext, step: ApprovalStepRow): Promise<string> {
  const { approvals } = ctx.deps.store;
  switch (step.state) {
    case "done": {
      const text = step.eventId === ctx.row.eventId || step.outcome !== "done" ? outcomeText(ctx.texts, step.outcome, step.action, ctx.doneText) : ctx.texts.stepRepeated;
      await reply(ctx, [text]);
      return `already: ${step.outcome ?? "ended"}`;
    }
    case "asking_reason": {
      await approvals.updateStep(step.id, { eventId: ctx.row.eventId, reasonUntil: ctx.deps.clock.now() + REASON_WINDOW_MS }, ctx.deps.clock.now());
      await reply(ctx, [fillText(ctx.texts.askReason, { action: step.action })]);
      return "asked for a reason again";
    }
    case "choosing_assignee":
      return offerAssignees(ctx, step);
    case "commenting":
      return postReasonThenAct(ctx, step, true);
    case "acting":
      return runStep(ctx, step, true);
  }
}

/**
 * The status call, made with the revision the step holds. `resumed`: the step was already acting
 * before this run (a re-run, or a later event carrying on): its call may have landed already.
 */
export async function runStep(ctx: StepContext, step: ApprovalStepRow, resumed: boolean): Promise<string> {
  const { deps } = ctx;
  if (step.revision === null) throw new Error(`approval step ${step.id} is acting without a revision`);
  try {
    const { revision } = await deps.actAsUser.updateStatus(step.kintoneUserCode, {
      appId: step.appId,
      recordId: step.recordId,
      action: step.action,
      ...(step.assignee !== null ? { assignee: step.assignee } : {}),
      revision: step.revision,
    });
    return finishDone(ctx, step, revision);
  } catch (error) {
    const refusal = userRefusal(error);
    if (refusal) return endStep(ctx, step, "reconnect", refusal.detail, refusal.text(ctx.texts));
    if (!(error instanceof KintoneError) || error.retryable) throw error;
    switch (error.code) {
      case "GAIA_SA01":
        return offerAssignees(ctx, step);
      case "GAIA_NT01":
        return endStep(ctx, step, "not_yours", describe(error), ctx.texts.stepNotYours);
      case "GAIA_IL03":
      case "GAIA_CO02": {
        if (resumed) {
          const landed = await ourCallLanded(ctx, step);
          if (landed !== undefined) return finishDone(ctx, step, landed);
        }
        return endStep(ctx, step, "already_done", describe(error), ctx.texts.stepAlreadyDone);
      }
      default:
        return endStep(ctx, step, "refused", describe(error), fillText(ctx.texts.stepRefused, { reason: error.code ?? String(error.status) }));
    }
  }
}

/**
 * After a crash between kintone's answer and the step's end, the re-run's call is refused (the
 * revision moved). The record read back tells whether the move was ours: its revision is one
 * (a partial step of an ALL status) or two (a status change) past the step's, and its last
 * modifier is the step's user. Returns the revision after our step, or undefined.
 */
async function ourCallLanded(ctx: StepContext, step: ApprovalStepRow): Promise<number | undefined> {
  if (step.revision === null) return undefined;
  const now = recordStateOf(await ctx.deps.kintone.getRecord(step.appId, step.recordId));
  const moved = now.revision - step.revision;
  return (moved === 1 || moved === 2) && now.modifier === step.kintoneUserCode ? now.revision : undefined;
}

async function finishDone(ctx: StepContext, step: ApprovalStepRow, revisionAfter: number): Promise<string> {
  const { deps } = ctx;
  deps.logger.info("step taken as the user", { app: step.appId, record: step.recordId, action: step.action, user: step.kintoneUserCode, revision: revisionAfter });
  // Before the step is marked done: a crash in between re-runs this (the enqueue is de-duplicated).
  await enqueueNextStep({ store: deps.store, kintone: deps.kintone, logger: deps.logger, now: deps.clock.now() }, step, revisionAfter);
  await deps.store.approvals.updateStep(step.id, { state: "done", outcome: "done", detail: `revision ${revisionAfter}` }, deps.clock.now());
  await reply(ctx, [ctx.doneText ?? fillText(ctx.texts.stepDone, { action: step.action })]);
  return "step taken";
}

export async function endStep(ctx: StepContext, step: ApprovalStepRow, outcome: StepOutcome, detail: string, text: string): Promise<string> {
  await ctx.deps.store.approvals.updateStep(step.id, { state: "done", outcome, detail }, ctx.deps.clock.now());
  ctx.deps.logger.info("step not taken", { app: step.appId, record: step.recordId, action: step.action, user: step.kintoneUserCode, outcome, detail });
  await reply(ctx, [text]);
  return `step ${outcome.replace("_", " ")}: ${detail}`;
}

/**
 * kintone wants the next assignee named (GAIA_SA01): the candidates the app's process offers for
 * the action's next status (users only; at most 13, LINE's quick-reply limit) become quick replies
 * whose signed postbacks name the step and the candidate.
 */
async function offerAssignees(ctx: StepContext, step: ApprovalStepRow): Promise<string> {
  const { deps } = ctx;
  if (!deps.replyChoices) return endStep(ctx, step, "refused", "GAIA_SA01: kintone needs the next assignee; quick replies cannot be sent", ctx.texts.chooseAssigneeInKintone);
  let candidates = step.candidates;
  if (step.state !== "choosing_assignee") {
    candidates = await assigneeCandidates(ctx, step);
    if (candidates.length === 0) return endStep(ctx, step, "refused", "GAIA_SA01: kintone needs the next assignee, and no user can be offered here", ctx.texts.chooseAssigneeInKintone);
    step = await deps.store.approvals.updateStep(step.id, { state: "choosing_assignee", candidates }, deps.clock.now());
  }
  const choices: QuickChoice[] = candidates.map((candidate, i) => ({
    label: candidate.name,
    displayText: candidate.name,
    data: deps.tokens.sign({ deliveryId: step.id, buttonId: `a${i}` }),
  }));
  await deps.replyChoices(ctx.row, ctx.replyToken, ctx.texts.chooseAssignee, choices);
  return "asked for the next assignee";
}

async function assigneeCandidates(ctx: StepContext, step: ApprovalStepRow): Promise<ApprovalStepRow["candidates"]> {
  let process: Awaited<ReturnType<ActAsUser["getProcess"]>>;
  try {
    process = await ctx.deps.actAsUser.getProcess(step.kintoneUserCode, step.appId);
  } catch (error) {
    if (userRefusal(error) || (error instanceof KintoneError && !error.retryable)) {
      // The app's process settings are not readable with the user's token (scope, rights): kintone's UI then.
      ctx.deps.logger.info("the next assignee's candidates cannot be read as the user", { app: step.appId, error: (error as Error).message });
      return [];
    }
    throw error;
  }
  const action = process.actions.find((a) => a.name === step.action && (step.expectedStatus === "" || a.from === step.expectedStatus));
  const entities = (action && process.states[action.to]?.entities) || [];
  const codes: string[] = [];
  for (const entry of entities) {
    const entity = (entry as { entity?: { type?: unknown; code?: unknown } } | null)?.entity;
    if (entity?.type === "USER" && typeof entity.code === "string" && entity.code !== "" && !codes.includes(entity.code)) codes.push(entity.code);
  }
  return codes.slice(0, MAX_QUICK_REPLIES).map((code) => ({ code, name: code }));
}

/** A tap on a next-assignee quick reply (its postback names a step, not a delivery). */
export async function chooseAssignee(deps: ApprovalDeps, row: WebhookEventRow, replyToken: string | undefined, target: PostbackTarget, lineUserId: string | undefined): Promise<string> {
  const step = await deps.store.approvals.getStepById(target.deliveryId);
  const setting = step ? await stepSetting(deps, step) : { texts: relayTexts(deps.language ?? "ja"), doneText: undefined };
  const index = CHOICE.exec(target.buttonId)?.[1];
  const candidate = step && index !== undefined ? step.candidates[Number(index)] : undefined;
  if (!step || !candidate || !deps.actAsUser) {
    await deps.replyOnce(row, replyToken, [setting.texts.unknown]);
    return "refused: unknown choice";
  }
  if (step.lineUserId !== lineUserId) {
    await deps.replyOnce(row, replyToken, [setting.texts.notYours]);
    return "refused: another user's choice";
  }
  const ctx: StepContext = { deps: { ...deps, actAsUser: deps.actAsUser }, row, replyToken, ...setting };
  if (step.state !== "choosing_assignee") return resumeStep(ctx, step);
  // Time passed since the question: the record is read again, and the step made with what it says now.
  const read = await readAsUser(ctx, step.kintoneUserCode, step.appId, step.recordId, step);
  if (typeof read === "string") return read;
  if (step.expectedStatus !== "" && read.status !== step.expectedStatus) {
    return endStep(ctx, step, "already_done", `the record is in "${read.status}" now`, ctx.texts.stepAlreadyDone);
  }
  const acting = await deps.store.approvals.updateStep(step.id, { state: "acting", assignee: candidate.code, revision: read.revision, eventId: row.eventId }, deps.clock.now());
  return runStep(ctx, acting, false);
}

/**
 * The reason a user was asked for: posted as their comment (their token), then the step. The
 * comment's claim (`commenting`, with the time) is stored before the post; a re-run looks for the
 * comment among the record's comments since then before posting again.
 */
export async function postReasonThenAct(ctx: StepContext, step: ApprovalStepRow, resumed: boolean): Promise<string> {
  const { deps } = ctx;
  const reason = step.reason ?? "";
  let commentId = step.commentId;
  if (commentId === null && resumed && step.commentingAt !== null) {
    const since = await deps.kintone.getCommentsSince(step.appId, step.recordId, step.commentingAt - 1000);
    commentId = since.find((comment) => comment.text === reason)?.id ?? null;
  }
  if (commentId === null) {
    try {
      commentId = (await deps.actAsUser.addComment(step.kintoneUserCode, { appId: step.appId, recordId: step.recordId, text: reason })).id;
    } catch (error) {
      const refusal = userRefusal(error);
      if (refusal) return endStep(ctx, step, "reconnect", refusal.detail, refusal.text(ctx.texts));
      if (!(error instanceof KintoneError) || error.retryable) throw error;
      return endStep(ctx, step, "refused", describe(error), fillText(ctx.texts.stepRefused, { reason: error.code ?? String(error.status) }));
    }
  }
  const acting = await deps.store.approvals.updateStep(step.id, { state: "acting", commentId }, deps.clock.now());
  return runStep(ctx, acting, false);
}

/**
 * The record as the user sees it. A refusal is answered here (connect again, or kintone's words)
 * and returned as the event's outcome; with `step`, the step ends with it.
 */
export async function readAsUser(ctx: StepContext, code: string, appId: string, recordId: string, step?: ApprovalStepRow): Promise<RecordState | string> {
  try {
    return recordStateOf(await ctx.deps.actAsUser.getRecord(code, appId, recordId));
  } catch (error) {
    const refusal = userRefusal(error);
    const kintoneRefusal = error instanceof KintoneError && !error.retryable ? error : undefined;
    if (!refusal && !kintoneRefusal) throw error;
    const text = refusal ? refusal.text(ctx.texts) : fillText(ctx.texts.stepRefused, { reason: kintoneRefusal?.code ?? String(kintoneRefusal?.status) });
    const detail = refusal ? refusal.detail : describe(kintoneRefusal as KintoneError);
    if (step) return endStep(ctx, step, refusal ? "reconnect" : "refused", detail, text);
    await reply(ctx, [text]);
    return `refused: ${detail}`;
  }
}

/** No link any more, or kintone refused the user's token: the user must connect (again). */
function userRefusal(error: unknown): { detail: string; text: (texts: RelayTexts) => string } | undefined {
  if (error instanceof UserReconnectNeededError) return { detail: `must connect again: ${error.message}`, text: (t) => t.connectAgain };
  if (error instanceof UserNotLinkedError) return { detail: `no kintone account connected: ${error.message}`, text: (t) => t.connectFirst };
  return undefined;
}

const describe = (error: KintoneError) => `${error.code ?? error.status ?? "kintone"}: ${error.message}`;

/** The words for a step's replies (its notification's rule set) and its button's own reply. */
export async function stepSetting(deps: Pick<ApprovalDeps, "store" | "language">, step: ApprovalStepRow): Promise<{ texts: RelayTexts; doneText: string | undefined }> {
  const delivery = await deps.store.getDelivery(step.deliveryId);
  const texts = await textsForNotification(deps.store, delivery?.notificationId, deps.language ?? "ja");
  return { texts, doneText: delivery ? buttonOf(delivery, step.buttonId)?.reply : undefined };
}

function buttonOf(delivery: DeliveryRow, buttonId: string): Button | undefined {
  const buttons: unknown = JSON.parse(delivery.buttons);
  if (!Array.isArray(buttons)) return undefined;
  for (const candidate of buttons) {
    const parsed = buttonSchema.safeParse(candidate);
    if (parsed.success && parsed.data.id === buttonId) return parsed.data;
  }
  return undefined;
}
