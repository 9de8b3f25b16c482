import { RELAY_TEXT_CATALOGUE, type Language } from "../../../common/i18n/relay-texts.js";
import { buttonSchema, type Button } from "../../../common/rules/rule-set.js";
import type { ReplyChoices } from "../approvals/step-replies.js";
import { chooseAssignee, isStepId, takeStepOnTap } from "../approvals/take-step.js";
import type { Clock } from "../clock.js";
import type { KintoneClient } from "../kintone/kintone-client.js";
import type { ActAsUser } from "../links/act-as-user.js";
import type { ProfileClient } from "../line/profile-client.js";
import type { Logger } from "../logger.js";
import type { PostbackTokens } from "../postback-token.js";
import type { DeliveryRow, RelayStore, WebhookEventRow } from "../store/relay-store.js";
import { decideAcknowledgementEffects, parseAcknowledgementEffects } from "./acknowledgement-effects.js";
import type { PostbackEvent } from "./event-schemas.js";
import { textsForNotification } from "./reply-texts.js";
import { writeAcknowledgementEffects } from "./write-acknowledgement.js";

/** The English replies (common/i18n/relay-texts.ts holds both languages). */
export const POSTBACK_REPLIES = RELAY_TEXT_CATALOGUE.en;

export interface PostbackDeps {
  store: RelayStore;
  kintone: KintoneClient;
  profiles: ProfileClient;
  tokens: PostbackTokens;
  clock: Clock;
  logger: Logger;
  replyOnce: (event: WebhookEventRow, replyToken: string | undefined, texts: string[]) => Promise<string>;
  /** RELAY_LANGUAGE: replies when the delivery's rule set names no language. */
  language?: Language;
  /** Acts as linked kintone users (buttons with an `action`); absent without kintone OAuth settings. */
  actAsUser?: ActAsUser;
  /** Replies with quick replies (the next assignee's candidates); absent: the user is sent to kintone. */
  replyChoices?: ReplyChoices;
}

/**
 * A tap on a relay button: verify the token, check the tapper received that delivery, then write
 * the acknowledgement once per (delivery, user, button) and reply; a button with an `action`
 * takes the process step as the tapping kintone user instead (approvals/take-step.ts), and a
 * next-assignee quick reply (its token names a step) carries that step on. Returns the event's outcome.
 */
export async function handlePostback(deps: PostbackDeps, row: WebhookEventRow, event: PostbackEvent): Promise<string> {
  const { store, logger } = deps;
  const target = deps.tokens.verify(event.postback.data);
  if (!target) {
    logger.warn("postback refused: not a relay token or its signature is wrong", { event: row.eventId });
    return "refused: bad token";
  }
  if (isStepId(target.deliveryId)) return chooseAssignee(deps, row, event.replyToken, target, event.source?.userId);
  const delivery = await store.getDelivery(target.deliveryId);
  const button = delivery && findButton(delivery, target.buttonId);
  const texts = await textsForNotification(store, delivery?.notificationId, deps.language ?? "ja");
  if (!delivery || !button) {
    logger.warn("postback refused: signed token names an unknown delivery or button", { event: row.eventId, ...target });
    await deps.replyOnce(row, event.replyToken, [texts.unknown]);
    return "refused: unknown delivery";
  }
  const source = event.source;
  const userId = source?.userId;
  // The chat the tap was made in, by what LINE says the source is: only a group (room) event
  // shows that the user is a member of that group (room). An ID field on a 1:1 event proves nothing.
  const chatId = source?.type === "group" ? source.groupId : source?.type === "room" ? source.roomId : undefined;
  const isRecipient = userId !== undefined && (delivery.to.includes(userId) || (chatId !== undefined && delivery.to.includes(chatId)));
  if (!userId || !isRecipient) {
    logger.warn("postback refused: the user was not sent this delivery", { event: row.eventId, delivery: delivery.id });
    await deps.replyOnce(row, event.replyToken, [texts.notYours]);
    return "refused: not a recipient";
  }
  if (button.action !== undefined) return takeStepOnTap(deps, row, event.replyToken, delivery, { ...button, action: button.action }, userId);

  const key = { deliveryId: delivery.id, userId, buttonId: button.id };
  let ack = await store.getAcknowledgement(key);
  if (ack?.state === "written" && ack.eventId !== row.eventId) {
    // A second tap (another event): recorded once already.
    await deps.replyOnce(row, event.replyToken, [texts.already]);
    return "already recorded";
  }
  // Either this event's own acknowledgement (perhaps a re-run after a crash), or one an earlier
  // tap left unfinished when its job gave up: this event completes it. Events of one user run in
  // order, so no other event of this user is writing it now.
  if (ack?.state !== "written") {
    if (!ack?.effects) {
      // Decided once, stored with the claim, before anything is written to kintone.
      const displayName = (await deps.profiles.displayName(userId, chatId)) ?? "LINE user";
      const effects = await decideAcknowledgementEffects(deps, delivery, button, { displayName, tappedAt: ack?.tappedAt ?? event.timestamp });
      ack = (await store.claimAcknowledgement(key, row.eventId, event.timestamp, JSON.stringify(effects))).ack;
    }
    const effects = parseAcknowledgementEffects(ack.effects ?? "");
    await writeAcknowledgementEffects(deps, delivery, key, ack, effects);
    await store.completeAcknowledgement(key, effects.displayName, deps.clock.now());
    logger.info("acknowledgement written", { event: row.eventId, delivery: delivery.id, button: button.id, app: delivery.appId, record: delivery.recordId });
  }
  await deps.replyOnce(row, event.replyToken, [button.reply ?? texts.done]);
  return "acknowledged";
}

function findButton(delivery: DeliveryRow, buttonId: string): Button | undefined {
  const buttons: unknown = JSON.parse(delivery.buttons);
  if (!Array.isArray(buttons)) return undefined;
  for (const candidate of buttons) {
    const parsed = buttonSchema.safeParse(candidate);
    if (parsed.success && parsed.data.id === buttonId) return parsed.data;
  }
  return undefined;
}
