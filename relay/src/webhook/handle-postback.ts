import { renderTemplate } from "../../../common/flex/render-template.js";
import type { KintoneRecord } from "../../../common/kintone/record.js";
import { buttonSchema, type Button } from "../../../common/rules/rule-set.js";
import type { Clock } from "../clock.js";
import type { KintoneClient } from "../kintone/kintone-client.js";
import { updateRecordChecked, type RecordChanges } from "../kintone/update-record-checked.js";
import type { ProfileClient } from "../line/profile-client.js";
import type { Logger } from "../logger.js";
import type { PostbackTokens } from "../postback-token.js";
import type { DeliveryRow, RelayStore, WebhookEventRow } from "../store/relay-store.js";
import type { PostbackEvent } from "./event-schemas.js";

export const POSTBACK_REPLIES = {
  done: "Thanks! Your response was recorded.",
  already: "You already responded to this message; it was recorded earlier.",
  notYours: "Sorry, this button is not for you.",
  unknown: "Sorry, this button is no longer valid.",
};

export interface PostbackDeps {
  store: RelayStore;
  kintone: KintoneClient;
  profiles: ProfileClient;
  tokens: PostbackTokens;
  clock: Clock;
  logger: Logger;
  timeZone: string;
  replyOnce: (event: WebhookEventRow, replyToken: string | undefined, texts: string[]) => Promise<string>;
}

/** kintone DATETIME values: UTC, seconds precision. */
const kintoneDateTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * A tap on a relay button: verify the token, check the tapper received that delivery, then write
 * the acknowledgement once per (delivery, user, button) and reply. Returns the event's outcome.
 */
export async function handlePostback(deps: PostbackDeps, row: WebhookEventRow, event: PostbackEvent): Promise<string> {
  const { store, logger } = deps;
  const target = deps.tokens.verify(event.postback.data);
  if (!target) {
    logger.warn("postback refused: not a relay token or its signature is wrong", { event: row.eventId });
    return "refused: bad token";
  }
  const delivery = await store.getDelivery(target.deliveryId);
  const button = delivery && findButton(delivery, target.buttonId);
  if (!delivery || !button) {
    logger.warn("postback refused: signed token names an unknown delivery or button", { event: row.eventId, ...target });
    await deps.replyOnce(row, event.replyToken, [POSTBACK_REPLIES.unknown]);
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
    await deps.replyOnce(row, event.replyToken, [POSTBACK_REPLIES.notYours]);
    return "refused: not a recipient";
  }

  const key = { deliveryId: delivery.id, userId, buttonId: button.id };
  const { ack } = await store.claimAcknowledgement(key, row.eventId, event.timestamp);
  if (ack.state === "written" && ack.eventId !== row.eventId) {
    // A second tap (another event): recorded once already.
    await deps.replyOnce(row, event.replyToken, [POSTBACK_REPLIES.already]);
    return "already recorded";
  }
  // Either this event's own acknowledgement (perhaps a re-run after a crash), or one an earlier
  // tap left unfinished when its job gave up: this event completes it. Events of one user run in
  // order, so no other event of this user is writing it now.
  if (ack.state !== "written") {
    const displayName = (await deps.profiles.displayName(userId, chatId)) ?? "LINE user";
    await writeAcknowledgement(deps, delivery, button, {
      displayName,
      tappedAt: ack.tappedAt,
      beforeComment: () => store.markAcknowledgementCommenting(key),
      commentMayExist: ack.state === "commenting",
    });
    await store.completeAcknowledgement(key, displayName, deps.clock.now());
    logger.info("acknowledgement written", { event: row.eventId, delivery: delivery.id, button: button.id, app: delivery.appId, record: delivery.recordId });
  }
  await deps.replyOnce(row, event.replyToken, [button.reply ?? POSTBACK_REPLIES.done]);
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

async function writeAcknowledgement(
  deps: PostbackDeps,
  delivery: DeliveryRow,
  button: Button,
  tap: { displayName: string; tappedAt: number; beforeComment: () => Promise<void>; commentMayExist: boolean },
): Promise<void> {
  const writeBack = button.writeBack;
  if (!writeBack) return;
  const extra = { lineName: tap.displayName, buttonLabel: button.label };
  let commentRecord: KintoneRecord | undefined;
  const needsUpdate = writeBack.set || writeBack.timestampField || writeBack.userField;
  if (needsUpdate) {
    await updateRecordChecked(deps.kintone, delivery.appId, delivery.recordId, (record) => {
      commentRecord = record;
      const changes: RecordChanges = {};
      for (const [code, template] of Object.entries(writeBack.set ?? {})) {
        const text = renderTemplate(template, record, { timeZone: deps.timeZone, extra, emptyText: "" });
        changes[code] = { value: valueForField(record, code, text) };
      }
      if (writeBack.timestampField) changes[writeBack.timestampField] = { value: kintoneDateTime(tap.tappedAt) };
      if (writeBack.userField) changes[writeBack.userField] = { value: tap.displayName };
      return changes;
    });
  }
  if (writeBack.comment) {
    const record = commentRecord ?? (await deps.kintone.getRecord(delivery.appId, delivery.recordId));
    const text = renderTemplate(writeBack.comment, record, { timeZone: deps.timeZone, extra }).slice(0, 65_535);
    if (!text.trim()) return;
    if (tap.commentMayExist) {
      // An earlier run died around posting it: post only if it is not among the newest comments.
      const recent = await deps.kintone.getRecentComments(delivery.appId, delivery.recordId, 50);
      if (recent.some((comment) => comment.text.trim() === text.trim())) return;
    }
    await tap.beforeComment();
    await deps.kintone.addComment(delivery.appId, delivery.recordId, text);
  }
}

/** Multi-choice fields take a list; everything else the text as is. */
function valueForField(record: KintoneRecord, code: string, text: string): unknown {
  const type = record[code]?.type;
  if (type === "CHECK_BOX" || type === "MULTI_SELECT") return text ? text.split(",").map((item) => item.trim()).filter(Boolean) : [];
  return text;
}
