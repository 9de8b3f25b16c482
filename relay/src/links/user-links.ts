/**
 * Links between kintone users and LINE users, and the short-lived steps of the connect flow that
 * proves one (relay/src/connect). Both sides are proven on the server: kintone's OAuth names the
 * kintone user (the creator of a record the relay adds with the user's token), LINE's account
 * link names the LINE user (the `accountLink` event carries the nonce the relay made for them).
 *
 * The store keeps no usable secret of the flow: connect starts, OAuth states and nonces are
 * stored as SHA-256 hashes (connect/flow-secrets.ts), refresh tokens sealed with RELAY_TOKEN_KEY
 * (links/token-box.ts).
 */

/** A kintone user proven (OAuth + LINE account link) to be a LINE user. */
export interface UserLink {
  kintoneUserCode: string; // kintone login name (CREATOR.code)
  kintoneUserName: string; // CREATOR.name
  lineUserId: string; // U + 32 hex
  linkedAt: number; // epoch ms
  /** "active"; "reconnect": kintone refused the stored token (revoked/expired): the user must connect again. */
  state: "active" | "reconnect";
}

/** What a connect start or an OAuth state carries to the next step: who asked, and LINE's link token for them. */
export interface ConnectRequest {
  lineUserId: string;
  /** LINE's link token (10 minutes, single use) for `lineUserId`, spent on LINE's account-link page. */
  linkToken: string;
}

/** `t` of `/connect/start?t=…`: made when the LINE user sends `connect`. */
export interface ConnectStartRow extends ConnectRequest {
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

/** The OAuth `state`, bound to the browser that started (the hash of its cookie). */
export interface ConnectStateRow extends ConnectRequest {
  stateHash: string;
  browserHash: string;
  createdAt: number;
  expiresAt: number;
}

/** A kintone user proven by OAuth, waiting for LINE's `accountLink` event with this nonce. */
export interface PendingLinkRow {
  nonceHash: string;
  /** The LINE user the link token (and so the nonce) was made for. */
  lineUserId: string;
  kintoneUserCode: string;
  kintoneUserName: string;
  /** The refresh token, sealed (token-box.ts) with the kintone user code as additional data. */
  sealedRefreshToken: string;
  createdAt: number;
  expiresAt: number;
}

export type PendingLinkRefusal =
  /** No such nonce (forged, or pruned long after it expired). */
  | "unknown_nonce"
  /** The nonce was spent by an earlier event (a replay, or a second account-link event). */
  | "used"
  | "expired"
  /** The event came from another LINE user than the one the nonce was made for. */
  | "other_user"
  /** LINE said the account link failed (`link.result: "failed"`). */
  | "failed";

export type CompleteLinkResult = { ok: true; link: UserLink } | { ok: false; reason: PendingLinkRefusal };

export interface UserLinkStore {
  getLinkByLineUser(lineUserId: string): Promise<UserLink | undefined>;
  getLinkByKintoneUser(kintoneUserCode: string): Promise<UserLink | undefined>;
  /** Links of these kintone users (missing ones absent), one query. */
  getLinksByKintoneUsers(codes: readonly string[]): Promise<UserLink[]>;
  listLinks(): Promise<UserLink[]>;
  deleteLink(kintoneUserCode: string): Promise<boolean>;
  markLinkNeedsReconnect(kintoneUserCode: string, now: number): Promise<void>;

  /** The LINE user's own `disconnect`: removes their link, if any, and returns it. */
  deleteLinkByLineUser(lineUserId: string): Promise<UserLink | undefined>;
  /** The link and its sealed refresh token (ActAsUser), or undefined when the user has no link. */
  getLinkCredentials(kintoneUserCode: string): Promise<{ link: UserLink; sealedRefreshToken: string } | undefined>;

  createConnectStart(row: ConnectStartRow): Promise<void>;
  /** Spends the start if it exists, is unspent and unexpired, and returns what it carries; else undefined. */
  takeConnectStart(tokenHash: string, now: number): Promise<ConnectRequest | undefined>;
  createConnectState(row: ConnectStateRow): Promise<void>;
  /**
   * Spends the state if it exists, is unspent, unexpired and was made for this browser (its
   * cookie's hash); else undefined, and a state asked for by another browser stays unspent.
   */
  takeConnectState(stateHash: string, browserHash: string, now: number): Promise<ConnectRequest | undefined>;
  createPendingLink(row: PendingLinkRow): Promise<void>;
  /**
   * LINE's `accountLink` event `eventId` from `lineUserId` names the nonce: in one transaction the
   * nonce is spent (whatever the outcome: a nonce is tried once) and, when it was unspent,
   * unexpired, made for this LINE user and `result` is ok, the link is stored, replacing any link
   * of either user (one LINE user, one kintone user). The same event asking again (a re-run of
   * its job) gets the outcome it had.
   */
  completePendingLink(
    nonceHash: string,
    lineUserId: string,
    result: "ok" | "failed",
    eventId: string,
    now: number,
  ): Promise<CompleteLinkResult>;
}

/** What spending a nonce decides (the same in every store): `linked`, or why not. */
export function nonceOutcome(nonce: { lineUserId: string; expiresAt: number }, lineUserId: string, result: "ok" | "failed", now: number): "linked" | PendingLinkRefusal {
  if (result !== "ok") return "failed";
  if (nonce.expiresAt <= now) return "expired";
  if (nonce.lineUserId !== lineUserId) return "other_user";
  return "linked";
}

const REFUSALS: readonly string[] = ["unknown_nonce", "used", "expired", "other_user", "failed"] satisfies PendingLinkRefusal[];

/** A stored outcome read back as a refusal ("used" for anything unexpected). */
export const asRefusal = (outcome: string | null): PendingLinkRefusal => (outcome && REFUSALS.includes(outcome) ? (outcome as PendingLinkRefusal) : "used");
