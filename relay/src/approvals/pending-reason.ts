import type { WebhookEventRow } from "../store/relay-store.js";
import type { MessageEvent } from "../webhook/event-schemas.js";
import { endStep, postReasonThenAct, readAsUser, runStep, stepSetting, type ApprovalDeps, type StepContext } from "./take-step.js";
import { outcomeText } from "./step-replies.js";

/** What stops a question for a reason instead of answering it. */
const CANCEL = /^(cancel|キャンセル)$/i;

/**
 * A text message from a user the relay asked for a reason (a button with `askReason`, at most
 * REASON_WINDOW_MS before the message was sent): the text is posted as the user's own comment on
 * the record, then the step is taken; "cancel" / "キャンセル" stops it. Returns the event's
 * outcome, or undefined when the user has no question waiting (the message is something else).
 *
 * The question is stored, so any relay instance sees it; the user's events run in order, so the
 * message is read after the tap that asked.
 */
export async function handlePendingReason(deps: ApprovalDeps, row: WebhookEventRow, event: MessageEvent): Promise<string | undefined> {
  const lineUserId = event.source?.userId;
  if (event.message.type !== "text" || !lineUserId) return undefined;
  const step = await deps.store.approvals.findReasonStep(lineUserId, row.eventId, event.timestamp);
  if (!step) return undefined;
  const setting = await stepSetting(deps, step);
  if (!deps.actAsUser) {
    await deps.replyOnce(row, event.replyToken, [setting.texts.unknown]);
    return "refused: approvals are not configured";
  }
  const ctx: StepContext = { deps: { ...deps, actAsUser: deps.actAsUser }, row, replyToken: event.replyToken, ...setting };
  const now = deps.clock.now();

  switch (step.state) {
    case "asking_reason": {
      const text = event.message.text.trim();
      if (CANCEL.test(text)) return endStep(ctx, step, "cancelled", "the user cancelled", setting.texts.reasonCancelled);
      // The comment only makes sense if the step can still be taken: read the record first.
      const read = await readAsUser(ctx, step.kintoneUserCode, step.appId, step.recordId, step);
      if (typeof read === "string") return read;
      if (step.expectedStatus !== "" && read.status !== step.expectedStatus) {
        return endStep(ctx, step, "already_done", `the record is in "${read.status}" now`, setting.texts.stepAlreadyDone);
      }
      if (read.assignees.length > 0 && !read.assignees.includes(step.kintoneUserCode)) {
        return endStep(ctx, step, "not_yours", "no longer an assignee", setting.texts.stepNotYours);
      }
      const commenting = await deps.store.approvals.updateStep(
        step.id,
        { state: "commenting", reason: event.message.text, reasonEventId: row.eventId, eventId: row.eventId, revision: read.revision, commentingAt: now },
        now,
      );
      return postReasonThenAct(ctx, commenting, false);
    }
    // This event gave the reason in an earlier run that stopped part way.
    case "commenting":
      return postReasonThenAct(ctx, step, true);
    case "acting":
      return runStep(ctx, step, true);
    case "choosing_assignee":
    case "done":
      // Answered already (a re-run): say again how it stands; LINE refuses a spent reply token.
      await deps.replyOnce(row, event.replyToken, [step.state === "done" ? outcomeText(setting.texts, step.outcome, step.action, setting.doneText) : setting.texts.chooseAssignee]);
      return `reason already handled: ${step.outcome ?? step.state}`;
  }
}
