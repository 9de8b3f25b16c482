import type { Clock } from "../clock.js";
import type { KintoneClient } from "../kintone/kintone-client.js";
import { updateRecordChecked } from "../kintone/update-record-checked.js";
import type { Logger } from "../logger.js";
import type { RelayStore, WebhookEventRow } from "../store/relay-store.js";
import type { MessageEvent } from "./event-schemas.js";
import { LINK_MISS_LIMIT, LINK_MISS_WINDOW_MS, normalizeLinkCodeInput } from "./link-codes.js";

export const LINK_REPLIES = {
  linked: "Your LINE account is now connected. You will get notifications here.",
  wrong: "That code is not valid or has expired. Please ask for a new code.",
  tooMany: "Too many wrong codes. Please wait 15 minutes and try again.",
};

export interface LinkCodeDeps {
  store: RelayStore;
  kintone: KintoneClient;
  clock: Clock;
  logger: Logger;
  replyOnce: (event: WebhookEventRow, replyToken: string | undefined, texts: string[]) => Promise<string>;
}

/**
 * A text message that looks like a link code: write the sender's user ID into the record field
 * the code was made for (appended to a multi-line list; a single-line field is replaced), once.
 * Other text is ignored. Wrong codes are limited per user.
 */
export async function handleLinkCode(deps: LinkCodeDeps, row: WebhookEventRow, event: MessageEvent): Promise<string> {
  const userId = event.source?.type === "user" ? event.source.userId : undefined;
  const code = event.message.type === "text" && event.message.text ? normalizeLinkCodeInput(event.message.text) : undefined;
  if (!userId || !code) return "ignored: not a link code";

  const now = deps.clock.now();
  if ((await deps.store.countLinkMisses(userId, now - LINK_MISS_WINDOW_MS)) >= LINK_MISS_LIMIT) {
    deps.logger.warn("link code refused: too many wrong codes", { event: row.eventId });
    await deps.replyOnce(row, event.replyToken, [LINK_REPLIES.tooMany]);
    return "refused: rate limited";
  }
  const link = await deps.store.consumeLinkCode(code, userId, row.eventId, now);
  if (!link) {
    await deps.store.recordLinkMiss(userId, now, now - LINK_MISS_WINDOW_MS);
    deps.logger.info("link code refused: unknown, used or expired", { event: row.eventId });
    await deps.replyOnce(row, event.replyToken, [LINK_REPLIES.wrong]);
    return "refused: wrong code";
  }
  await updateRecordChecked(deps.kintone, link.appId, link.recordId, (record) => {
    const field = record[link.field];
    const current = typeof field?.value === "string" ? field.value : "";
    if (field?.type === "MULTI_LINE_TEXT") {
      const lines = current.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
      if (lines.includes(userId)) return undefined;
      return { [link.field]: { value: [...lines, userId].join("\n") } };
    }
    return current === userId ? undefined : { [link.field]: { value: userId } };
  });
  deps.logger.info("LINE user linked to a record", { event: row.eventId, app: link.appId, record: link.recordId, field: link.field });
  await deps.replyOnce(row, event.replyToken, [LINK_REPLIES.linked]);
  return "linked";
}
