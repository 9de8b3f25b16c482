import { randomBytes, randomInt } from "node:crypto";
import type { webhook } from "@line/bot-sdk";
import { Hono, type Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { ReplyTokenSource } from "./line-emulator.js";
import { isUserId } from "./message-limits.js";
import { newWebhookEventId, type SentWebhook, type WebhookDelivery } from "./webhook-delivery.js";

/**
 * LINE's account link, the LINE side (https://developers.line.biz/en/docs/messaging-api/linking-accounts/):
 * link tokens issued for a user (POST /v2/bot/user/{userId}/linkToken, in line-emulator.ts), and
 * the account-link page on access.line.me that checks the browser's LINE user against the token's
 * user and sends the `accountLink` webhook event. Which LINE user the browser is logged in as is a
 * session cookie set by a test-only route (`GET /login?user=...`), standing in for LINE Login.
 */

/**
 * "Link tokens are valid for 10 minutes and can only be used once."
 * https://developers.line.biz/en/reference/messaging-api/#issue-link-token (response, linkToken)
 */
export const LINK_TOKEN_TTL_MS = 10 * 60_000;

/**
 * The nonce "must be between 10 and 255 characters long"
 * (https://developers.line.biz/en/docs/messaging-api/linking-accounts/, step 4).
 */
export const NONCE_MIN_LENGTH = 10;
export const NONCE_MAX_LENGTH = 255;

export const SESSION_COOKIE = "line_emulator_session";

export interface IssuedLinkToken {
  linkToken: string;
  userId: string;
  issuedAt: number;
  expiresAt: number;
  /** When the account-link page spent it (linked or failed verification); undefined: unused. */
  usedAt?: number;
}

export type AccountLinkOutcome =
  /** Verified: the token's user is the browser's user; event with result "ok". */
  | "linked"
  /** Another LINE user opened the link: event with result "failed". */
  | "failed"
  /** Unknown, expired or used link token: error page, no event. */
  | "invalid-link-token"
  /** Nonce missing or not 10-255 characters: error page, no event. */
  | "invalid-nonce"
  /** No LINE user in this browser: a page asking to log in, no event. */
  | "not-logged-in";

export interface AccountLinkVisit {
  linkToken: string;
  nonce: string;
  /** The LINE user this browser is logged in as. */
  browserUserId?: string;
  outcome: AccountLinkOutcome;
  /** The page's status. */
  status: number;
  at: number;
  /** The webhook the visit caused (linked / failed), when a webhook URL is set. */
  webhook?: SentWebhook;
}

/** Link tokens by value, by the emulator clock. */
export class LinkTokenRegistry {
  readonly issued: IssuedLinkToken[] = [];
  private readonly byValue = new Map<string, IssuedLinkToken>();

  constructor(private readonly now: () => number) {}

  issue(userId: string): IssuedLinkToken {
    const issuedAt = this.now();
    const entry: IssuedLinkToken = { linkToken: newLinkToken(), userId, issuedAt, expiresAt: issuedAt + LINK_TOKEN_TTL_MS };
    this.issued.push(entry);
    this.byValue.set(entry.linkToken, entry);
    return entry;
  }

  /** The token if it can still be used: known, unused, not expired. */
  usable(linkToken: string): IssuedLinkToken | undefined {
    const entry = this.byValue.get(linkToken);
    if (!entry || entry.usedAt !== undefined || this.now() >= entry.expiresAt) return undefined;
    return entry;
  }

  /** Every unused token expires now. */
  expireAll(): void {
    const now = this.now();
    for (const entry of this.issued) if (entry.usedAt === undefined && entry.expiresAt > now) entry.expiresAt = now;
  }

  clear(): void {
    this.issued.length = 0;
    this.byValue.clear();
  }
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 32 letters and digits, like the documented example "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY". */
function newLinkToken(): string {
  let token = "";
  for (let i = 0; i < 32; i++) token += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]!;
  return token;
}

/** Which LINE user each emulated browser is logged in as. */
export class BrowserSessions {
  private readonly users = new Map<string, string>();

  /** A new session for this user; the cookie's value. */
  open(userId: string): string {
    const session = randomBytes(18).toString("base64url");
    this.users.set(session, userId);
    return session;
  }

  userOf(session: string | undefined): string | undefined {
    return session === undefined ? undefined : this.users.get(session);
  }
}

export interface AccessAppDeps {
  now: () => number;
  linkTokens: LinkTokenRegistry;
  sessions: BrowserSessions;
  webhooks: WebhookDelivery;
  issueReplyToken: (source: ReplyTokenSource) => string;
  visits: AccountLinkVisit[];
}

/** A LINE page's words, in both languages the product's users read. */
function page(c: Context, status: number, title: { ja: string; en: string }, text: { ja: string; en: string }): Response {
  const html = `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title.ja} / ${title.en}</title></head>
<body><h1 lang="ja">${title.ja}</h1><p lang="ja">${text.ja}</p><h1 lang="en">${title.en}</h1><p lang="en">${text.en}</p></body></html>`;
  return c.html(html, status as 200);
}

/** The access.line.me side: the account-link page and the test-only login. */
export function createAccessApp(deps: AccessAppDeps): Hono {
  const app = new Hono();

  // Test-only stand-in for LINE Login: this browser is now `user`.
  app.get("/login", (c) => {
    const userId = c.req.query("user");
    if (!isUserId(userId)) {
      return page(c, 400, { ja: "ログインできません", en: "Cannot log in" }, { ja: "LINEのユーザーIDではありません。", en: "Not a LINE user ID." });
    }
    setCookie(c, SESSION_COOKIE, deps.sessions.open(userId!), { path: "/", httpOnly: true, sameSite: "Lax" });
    return page(c, 200, { ja: "ログインしました", en: "Logged in" }, { ja: userId!, en: userId! });
  });

  // https://developers.line.biz/en/docs/messaging-api/linking-accounts/, step 4: the bot's web
  // server redirects the user to https://access.line.me/dialog/bot/accountLink?linkToken=...&nonce=...
  app.get("/dialog/bot/accountLink", async (c) => {
    const linkToken = c.req.query("linkToken") ?? "";
    const nonce = c.req.query("nonce") ?? "";
    const browserUserId = deps.sessions.userOf(getCookie(c, SESSION_COOKIE));
    const visit: AccountLinkVisit = { linkToken, nonce, ...(browserUserId ? { browserUserId } : {}), outcome: "invalid-nonce", status: 400, at: deps.now() };
    deps.visits.push(visit);
    const answer = (outcome: AccountLinkOutcome, status: number, response: Response): Response => {
      visit.outcome = outcome;
      visit.status = status;
      return response;
    };

    // The docs require 10-255 characters but do not say what LINE does otherwise; the emulator
    // refuses such a request before looking at the token (error page, no event, token kept), so a
    // relay that makes a bad nonce sees it fail instead of linking.
    if (nonce.length < NONCE_MIN_LENGTH || nonce.length > NONCE_MAX_LENGTH) {
      return answer("invalid-nonce", 400, page(c, 400, { ja: "エラー", en: "Error" }, { ja: "リクエストが正しくありません。", en: "The request is invalid." }));
    }
    // "The linking token is invalid: If the linking token is expired or was used before, the LINE
    // Platform sends no webhook event and shows an error to the user." (linking-accounts, step 4;
    // also https://developers.line.biz/en/reference/messaging-api/#account-link-event). An unknown
    // token is treated alike.
    const token = deps.linkTokens.usable(linkToken);
    if (!token) {
      return answer(
        "invalid-link-token",
        400,
        page(c, 400, { ja: "エラー", en: "Error" }, { ja: "このリンクは無効か、有効期限が切れています。", en: "This link is invalid or has expired." }),
      );
    }
    // LINE would ask the user to log in here; the emulator has no LINE Login, so it says so and
    // keeps the token (nothing was verified yet).
    if (!browserUserId) {
      return answer(
        "not-logged-in",
        401,
        page(c, 401, { ja: "ログインしてください", en: "Please log in" }, { ja: "LINEにログインしていません。", en: "You are not logged in to LINE." }),
      );
    }

    // "the LINE Platform checks if the user is the user the linking token was issued for"
    // (linking-accounts, step 4). Whatever the result, the token has been used: it "can only be
    // used once" (#issue-link-token). The docs do not say whether a failed verification spends it;
    // spending it means a leaked link cannot be retried.
    token.usedAt = deps.now();
    const verified = token.userId === browserUserId;
    const event = verified ? linkedEvent(deps, token.userId, nonce) : failedEvent(deps, nonce);
    const sent = await deps.webhooks.send([event]);
    if (sent) visit.webhook = sent;
    if (!verified) {
      return answer(
        "failed",
        403,
        page(c, 403, { ja: "連携できませんでした", en: "Could not link" }, { ja: "このリンクは別のLINEアカウント用です。", en: "This link is for another LINE account." }),
      );
    }
    return answer("linked", 200, page(c, 200, { ja: "連携しました", en: "Linked" }, { ja: "アカウントを連携しました。", en: "Your accounts are linked." }));
  });

  app.notFound((c) => page(c, 404, { ja: "見つかりません", en: "Not found" }, { ja: "ページが見つかりません。", en: "The page was not found." }));
  return app;
}

/**
 * https://developers.line.biz/en/reference/messaging-api/#account-link-event (example and
 * properties): a verified link carries the user as `source` and a `replyToken` (account link
 * events can be replied to).
 */
function linkedEvent(deps: AccessAppDeps, userId: string, nonce: string): webhook.AccountLinkEvent {
  const timestamp = deps.now();
  return {
    type: "accountLink",
    mode: "active",
    timestamp,
    source: { type: "user", userId },
    webhookEventId: newWebhookEventId(timestamp),
    deliveryContext: { isRedelivery: false },
    replyToken: deps.issueReplyToken({ userId }),
    link: { result: "ok", nonce },
  };
}

/**
 * Same page: "The `source` property won't be included in the account link event if linking the
 * account has failed", and `replyToken` "won't be included if linking the account has failed";
 * link.result "failed": "linking the account failed for any reason, such as due to a user impersonation".
 */
function failedEvent(deps: AccessAppDeps, nonce: string): webhook.AccountLinkEvent {
  const timestamp = deps.now();
  return {
    type: "accountLink",
    mode: "active",
    timestamp,
    webhookEventId: newWebhookEventId(timestamp),
    deliveryContext: { isRedelivery: false },
    link: { result: "failed", nonce },
  };
}
