import { relayTexts, type Language } from "../../../common/i18n/relay-texts.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { RelayStore, WebhookEventRow } from "../store/relay-store.js";
import type { AccountLinkEvent } from "../webhook/event-schemas.js";
import { hashFlowSecret } from "./flow-secrets.js";

export interface AccountLinkDeps {
  store: RelayStore;
  clock: Clock;
  logger: Logger;
  replyOnce: (event: WebhookEventRow, replyToken: string | undefined, texts: string[]) => Promise<string>;
  language?: Language;
}

/**
 * LINE's `accountLink` event ends the connect flow. LINE sends it once the person who opened the
 * account-link page proved to be the LINE user the link token was issued for; the nonce is the one
 * the relay made when kintone's OAuth named the kintone user. The link is stored only when LINE
 * says ok and the nonce is known, unspent, unexpired and was made for the event's own LINE user
 * (the store decides, in one transaction, and spends the nonce whatever the outcome).
 */
export async function handleAccountLink(deps: AccountLinkDeps, row: WebhookEventRow, event: AccountLinkEvent): Promise<string> {
  const texts = relayTexts(deps.language ?? "ja");
  const userId = event.source?.type === "user" ? event.source.userId : undefined;
  if (!userId || event.link.nonce === "") {
    deps.logger.warn("account link ignored: no user or no nonce", { event: row.eventId });
    return "ignored: account link without a user or a nonce";
  }
  const outcome = await deps.store.userLinks.completePendingLink(hashFlowSecret(event.link.nonce), userId, event.link.result, row.eventId, deps.clock.now());
  if (!outcome.ok) {
    deps.logger.warn("account link bound nothing", { event: row.eventId, reason: outcome.reason, result: event.link.result });
    await deps.replyOnce(row, event.replyToken, [texts.connectNotCompleted]);
    return `refused: ${outcome.reason}`;
  }
  deps.logger.info("kintone user linked to a LINE user", { event: row.eventId, kintoneUser: outcome.link.kintoneUserCode });
  await deps.replyOnce(row, event.replyToken, [texts.connectedAs.replace("{{name}}", outcome.link.kintoneUserName)]);
  return "linked";
}
