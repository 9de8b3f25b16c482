import { relayTexts, type Language } from "../../../common/i18n/relay-texts.js";
import type { Clock } from "../clock.js";
import type { LinkTokenClient } from "../line/link-token-client.js";
import type { ReplyMessage } from "../line/reply-sender.js";
import type { Logger } from "../logger.js";
import type { RelayStore, WebhookEventRow } from "../store/relay-store.js";
import type { MessageEvent } from "../webhook/event-schemas.js";
import { CONNECT_STEP_TTL_MS, hashFlowSecret, newFlowSecret } from "./flow-secrets.js";

export interface ConnectCommandDeps {
  store: RelayStore;
  linkTokens: LinkTokenClient;
  /** RELAY_PUBLIC_URL: the start link is `{publicUrl}/connect/start?t=…`. */
  publicUrl: string;
  clock: Clock;
  logger: Logger;
  replyOnce: (event: WebhookEventRow, replyToken: string | undefined, messages: ReplyMessage[]) => Promise<string>;
  /** RELAY_LANGUAGE: no rule set speaks here. */
  language?: Language;
}

export type ConnectCommand = "connect" | "disconnect";

const COMMANDS: Record<string, ConnectCommand> = { connect: "connect", 連携: "connect", disconnect: "disconnect", 連携解除: "disconnect" };

/** `connect` / `連携` and `disconnect` / `連携解除`, in any case and width (NFKC), spaces around ignored. */
export function connectCommandOf(text: string): ConnectCommand | undefined {
  return COMMANDS[text.normalize("NFKC").trim().toLowerCase()];
}

/**
 * A text message that is a connect command, else undefined (the message is someone else's).
 *
 * `connect`: LINE issues a link token for the sender, the relay keeps a one-time start (its hash,
 * 10 minutes) and replies with the link to `/connect/start?t=…`: always a reply, never a push.
 * Linking proves one person, so only a one-to-one chat may ask.
 * `disconnect`: the sender's link is removed.
 */
export async function handleConnectCommand(deps: ConnectCommandDeps, row: WebhookEventRow, event: MessageEvent): Promise<string | undefined> {
  const command = event.message.type === "text" ? connectCommandOf(event.message.text) : undefined;
  if (!command) return undefined;
  const texts = relayTexts(deps.language ?? "ja");
  const source = event.source;
  const userId = source?.type === "user" ? source.userId : undefined;
  if (!userId) {
    deps.logger.info(`${command} refused: not a one-to-one chat`, { event: row.eventId, source: source?.type });
    await deps.replyOnce(row, event.replyToken, [texts.connectOneToOneOnly]);
    return `refused: ${command} outside a one-to-one chat`;
  }

  if (command === "disconnect") {
    const removed = await deps.store.userLinks.deleteLinkByLineUser(userId);
    if (removed) deps.logger.info("kintone user disconnected by their LINE user", { event: row.eventId, kintoneUser: removed.kintoneUserCode });
    await deps.replyOnce(row, event.replyToken, [removed ? texts.disconnected : texts.notConnected]);
    return removed ? "disconnected" : "disconnect: not connected";
  }

  if (await deps.store.isBlocked(userId)) {
    deps.logger.info("connect refused: the user has blocked the account", { event: row.eventId });
    await deps.replyOnce(row, event.replyToken, [texts.connectUnavailable]);
    return "refused: connect from a blocked user";
  }
  const issued = await deps.linkTokens.issueLinkToken(userId);
  if (issued.kind === "retryable") throw new Error(`LINE link token: ${issued.message}`);
  if (issued.kind !== "accepted" || !issued.body) {
    const why = issued.kind === "rejected" ? `${issued.status} ${issued.message}` : "no link token in LINE's answer";
    deps.logger.warn("connect refused: LINE issued no link token", { event: row.eventId, why });
    await deps.replyOnce(row, event.replyToken, [texts.connectUnavailable]);
    return "refused: no link token";
  }
  const t = newFlowSecret();
  const now = deps.clock.now();
  await deps.store.userLinks.createConnectStart({
    tokenHash: hashFlowSecret(t),
    lineUserId: userId,
    linkToken: issued.body.linkToken,
    createdAt: now,
    expiresAt: now + CONNECT_STEP_TTL_MS,
  });
  const url = `${deps.publicUrl}/connect/start?t=${encodeURIComponent(t)}`;
  // A button, not the address in a text: LINE's link preview would fetch a URL in a text message
  // and spend the one-time start. Template buttons text: at most 160 characters, label at most 20
  // (https://developers.line.biz/en/reference/messaging-api/#buttons).
  await deps.replyOnce(row, event.replyToken, [
    {
      type: "template",
      altText: texts.connectLink,
      template: { type: "buttons", text: texts.connectLink, actions: [{ type: "uri", label: texts.connectButton, uri: url }] },
    },
  ]);
  return "connect link sent";
}
