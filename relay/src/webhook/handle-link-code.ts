import { relayTexts, type Language } from "../../../common/i18n/relay-texts.js";
import type { Clock } from "../clock.js";
import { KintoneError, type KintoneClient } from "../kintone/kintone-client.js";
import { updateRecordChecked } from "../kintone/update-record-checked.js";
import type { Logger } from "../logger.js";
import type { RelayStore, WebhookEventRow } from "../store/relay-store.js";
import type { MessageEvent } from "./event-schemas.js";
import { textsForApp } from "./reply-texts.js";
import { LINK_MISS_LIMIT, LINK_MISS_WINDOW_MS, normalizeLinkCodeInput } from "./link-codes.js";

export interface LinkCodeDeps {
  store: RelayStore;
  kintone: KintoneClient;
  clock: Clock;
  logger: Logger;
  replyOnce: (event: WebhookEventRow, replyToken: string | undefined, texts: string[]) => Promise<string>;
  /** RELAY_LANGUAGE: replies before the code names an app (wrong codes, too many). */
  language?: Language;
}

/**
 * A text message that looks like a link code: write the sender's user ID into the record field
 * the code was made for (appended to a multi-line list; a single-line field is replaced), once.
 * Other text is ignored, and is not a try. Wrong codes are limited per user. The code is claimed
 * for this event first (no one else can use it meanwhile) and spent only when the write has
 * landed: a write kintone refuses leaves it usable, a retried event finds its own claim.
 */
export async function handleLinkCode(deps: LinkCodeDeps, row: WebhookEventRow, event: MessageEvent): Promise<string> {
  const userId = event.source?.type === "user" ? event.source.userId : undefined;
  const code = event.message.type === "text" && event.message.text ? normalizeLinkCodeInput(event.message.text) : undefined;
  if (!userId || !code) return "ignored: not a link code";

  const language = deps.language ?? "ja";
  const now = deps.clock.now();
  if ((await deps.store.countLinkMisses(userId, now - LINK_MISS_WINDOW_MS)) >= LINK_MISS_LIMIT) {
    deps.logger.warn("link code refused: too many wrong codes", { event: row.eventId });
    await deps.replyOnce(row, event.replyToken, [relayTexts(language).tooManyCodes]);
    return "refused: rate limited";
  }
  const link = await deps.store.claimLinkCode(code, userId, row.eventId, now);
  if (!link) {
    await deps.store.recordLinkMiss(userId, now, now - LINK_MISS_WINDOW_MS);
    deps.logger.info("link code refused: unknown, used or expired", { event: row.eventId });
    await deps.replyOnce(row, event.replyToken, [relayTexts(language).wrongCode]);
    return "refused: wrong code";
  }
  // From here the code names its app: replies in that app's rule-set language.
  const texts = await textsForApp(deps.store, link.appId, language);
  const where = { event: row.eventId, app: link.appId, record: link.recordId, field: link.field };
  try {
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
  } catch (error) {
    if (!(error instanceof KintoneError)) throw error;
    if (error.isMissingRecord) {
      // Nothing to link, ever: the code is spent so that it does not linger.
      await deps.store.completeLinkCode(code, row.eventId, deps.clock.now());
      deps.logger.warn("link code refused: its record no longer exists", { ...where, code: error.code });
      await deps.replyOnce(row, event.replyToken, [texts.codeRecordMissing]);
      return "refused: record missing";
    }
    // 429 / 5xx / a revision conflict: thrown, so the job runs this event again and it finds its claim.
    if (error.retryable || error.isStaleRevision) throw error;
    // kintone refused the write: not spent; this event's claim lapses when it ends.
    deps.logger.warn("link code not applied: kintone refused the write", { ...where, status: error.status, code: error.code, message: error.message });
    await deps.replyOnce(row, event.replyToken, [texts.codeWriteFailed]);
    return `refused: write failed (${error.code ?? error.status ?? "kintone"})`;
  }
  await deps.store.completeLinkCode(code, row.eventId, deps.clock.now());
  deps.logger.info("LINE user linked to a record", where);
  await deps.replyOnce(row, event.replyToken, [texts.linked]);
  return "linked";
}
