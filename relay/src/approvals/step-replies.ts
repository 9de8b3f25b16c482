import type { messagingApi } from "@line/bot-sdk";
import type { RelayTexts } from "../../../common/i18n/relay-texts.js";
import type { WebhookEventRow } from "../store/relay-store.js";
import type { StepOutcome } from "./approval-store.js";

/** Spends the event's reply token at most once (webhook/reply-once.ts). */
export type ReplyOnce = (event: WebhookEventRow, replyToken: string | undefined, texts: string[]) => Promise<string>;

/** One quick-reply button: a signed postback naming a candidate. */
export interface QuickChoice {
  /** At most 20 characters (LINE's quick-reply label limit). */
  label: string;
  /** Shown in the chat as the user's message when they tap it. */
  displayText: string;
  data: string;
}

/**
 * Sends one text with quick-reply buttons, spending the event's reply token at most once. Absent
 * while the reply sender sends texts only: the user is then asked to take the step in kintone.
 */
export type ReplyChoices = (event: WebhookEventRow, replyToken: string | undefined, text: string, choices: QuickChoice[]) => Promise<string>;

/** LINE: at most 13 quick-reply items, labels of at most 20 characters. */
export const MAX_QUICK_REPLIES = 13;
const QUICK_REPLY_LABEL = 20;
const DISPLAY_TEXT = 300;

/** The LINE text message carrying `choices` as quick replies (what a ReplyChoices sends). */
export function quickReplyMessage(text: string, choices: readonly QuickChoice[]): messagingApi.TextMessage {
  return {
    type: "text",
    text,
    quickReply: {
      items: choices.slice(0, MAX_QUICK_REPLIES).map((choice) => ({
        type: "action",
        action: {
          type: "postback",
          label: [...choice.label].slice(0, QUICK_REPLY_LABEL).join(""),
          data: choice.data,
          displayText: [...choice.displayText].slice(0, DISPLAY_TEXT).join(""),
        },
      })),
    },
  };
}

/** A catalogue text with its `{{action}}` / `{{reason}}` filled in. */
export function fillText(text: string, values: { action?: string; reason?: string }): string {
  return text.replace(/\{\{(action|reason)\}\}/g, (_, name: "action" | "reason") => values[name] ?? "");
}

/** What the user is told about a step that ended (a repeated tap, a re-run after a crash). */
export function outcomeText(texts: RelayTexts, outcome: StepOutcome | null, action: string, doneText?: string): string {
  switch (outcome) {
    case "done":
      return doneText ?? fillText(texts.stepDone, { action });
    case "already_done":
      return texts.stepAlreadyDone;
    case "not_yours":
      return texts.stepNotYours;
    case "reconnect":
      return texts.connectAgain;
    case "cancelled":
      return texts.reasonCancelled;
    default:
      return fillText(texts.stepRefused, { reason: "?" });
  }
}
