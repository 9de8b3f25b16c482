import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Clock } from "../clock.js";
import { KintoneError } from "../kintone/kintone-client.js";
import type { KintoneOAuthClient } from "../kintone/kintone-oauth-client.js";
import type { TokenBox } from "../links/token-box.js";
import type { UserLinkStore } from "../links/user-links.js";
import type { Logger } from "../logger.js";
import { connectPage, setFlowHeaders } from "./connect-pages.js";
import { CONNECT_STEP_TTL_MS, hashFlowSecret, newFlowSecret } from "./flow-secrets.js";
import { identifyKintoneUser } from "./identify-kintone-user.js";

export interface ConnectRouteDeps {
  links: UserLinkStore;
  oauth: KintoneOAuthClient;
  tokenBox: TokenBox;
  /** RELAY_PUBLIC_URL: decides the cookie's path and whether it is Secure. */
  publicUrl: string;
  /** LINE's account-link page (LINE_ACCESS_BASE_URL). */
  lineAccessBaseUrl: string;
  /** kintone's REST API, where the identifying record is added. */
  kintoneApiBaseUrl: string;
  linkAppId: string;
  clock: Clock;
  logger: Logger;
}

/** The browser value bound to an OAuth state: only the browser that started may finish. */
const BROWSER_COOKIE = "relay_connect";

/**
 * The browser's part of connecting (opened on the user's phone, outside /v1, no bearer):
 *
 * `GET /connect/start?t=` spends the one-time start the `connect` reply linked to, makes the
 * OAuth state and binds it to this browser with an httpOnly cookie (its hash is stored with the
 * state), and sends the browser to kintone's authorization.
 *
 * `GET /connect/kintone/callback?code&state` (or `error`): the state must be unspent, unexpired
 * and this browser's; the code is exchanged, the kintone user learned from a record added with
 * their token, and kept, with the sealed refresh token, under a fresh nonce; the browser goes on
 * to LINE's account-link page. LINE's `accountLink` event with that nonce, from the same LINE
 * user, makes the link (webhook side). Any refusal is a page saying what to do, nothing stored.
 */
export function connectRoutes(deps: ConnectRouteDeps): Hono {
  const { links, clock, logger } = deps;
  const publicUrl = new URL(deps.publicUrl);
  const cookieOptions = {
    path: `${publicUrl.pathname.replace(/\/+$/, "")}/connect`,
    httpOnly: true,
    // http only for a relay on localhost (settings.ts allows nothing else without TLS).
    secure: publicUrl.protocol === "https:",
    // Lax: sent when kintone's authorization sends the browser back (a top-level GET), never on cross-site requests.
    sameSite: "Lax",
    maxAge: CONNECT_STEP_TTL_MS / 1000,
  } as const;
  const dropCookie = (c: Context) => deleteCookie(c, BROWSER_COOKIE, { path: cookieOptions.path, secure: cookieOptions.secure });

  const app = new Hono();

  app.get("/start", async (c) => {
    const t = c.req.query("t");
    const request = t ? await links.takeConnectStart(hashFlowSecret(t), clock.now()) : undefined;
    if (!request) {
      logger.info("connect start refused: unknown, used or expired link");
      return connectPage(c, 400, "connectPageStartExpired");
    }
    const state = newFlowSecret();
    const browser = newFlowSecret();
    const now = clock.now();
    await links.createConnectState({
      stateHash: hashFlowSecret(state),
      browserHash: hashFlowSecret(browser),
      lineUserId: request.lineUserId,
      linkToken: request.linkToken,
      createdAt: now,
      expiresAt: now + CONNECT_STEP_TTL_MS,
    });
    setCookie(c, BROWSER_COOKIE, browser, cookieOptions);
    setFlowHeaders(c);
    return c.redirect(deps.oauth.authorizationUrl(state), 302);
  });

  app.get("/kintone/callback", async (c) => {
    const state = c.req.query("state");
    const browser = getCookie(c, BROWSER_COOKIE);
    dropCookie(c);
    const request = state && browser ? await links.takeConnectState(hashFlowSecret(state), hashFlowSecret(browser), clock.now()) : undefined;
    if (!request) {
      logger.warn("connect callback refused: unknown, used or expired state, or another browser", { state: Boolean(state), cookie: Boolean(browser) });
      return connectPage(c, 400, "connectPageStateInvalid");
    }
    const error = c.req.query("error");
    const code = c.req.query("code");
    if (error !== undefined || !code) {
      // RFC 6749 4.1.2.1's codes are short ASCII words; anything else is not shown.
      const shown = error && /^[a-z_]{1,40}$/.test(error) ? error : "invalid_request";
      logger.info("connect refused by kintone's authorization", { error: shown });
      return connectPage(c, 400, "connectPageDenied", { error: shown });
    }

    let tokens: { accessToken: string; refreshToken: string };
    try {
      const answer = await deps.oauth.exchangeCode(code);
      if (!answer.refreshToken) throw new KintoneError("kintone OAuth code exchange: the answer has no refresh token", 502, undefined);
      tokens = { accessToken: answer.accessToken, refreshToken: answer.refreshToken };
    } catch (failure) {
      if (!(failure instanceof KintoneError)) throw failure;
      // A code used or expired, or kintone away: the user starts again.
      logger.warn("connect failed: kintone did not exchange the code", { status: failure.status, code: failure.code, message: failure.message });
      return connectPage(c, 502, "connectPageKintoneFailed");
    }
    let identity;
    try {
      identity = await identifyKintoneUser({
        baseUrl: deps.kintoneApiBaseUrl,
        accessToken: tokens.accessToken,
        linkAppId: deps.linkAppId,
        lineUserId: request.lineUserId,
        now: clock.now(),
      });
    } catch (failure) {
      if (!(failure instanceof KintoneError)) throw failure;
      logger.warn("connect failed: the link app record was not added or read", { status: failure.status, code: failure.code, message: failure.message });
      // kintone away: try again later. A refusal (no add permission in the link app, a missing
      // field, a scope the client lacks) needs the admin.
      return failure.retryable ? connectPage(c, 502, "connectPageKintoneFailed") : connectPage(c, 403, "connectPageLinkAppRefused");
    }

    const nonce = newFlowSecret(24);
    const now = clock.now();
    await links.createPendingLink({
      nonceHash: hashFlowSecret(nonce),
      lineUserId: request.lineUserId,
      kintoneUserCode: identity.code,
      kintoneUserName: identity.name,
      sealedRefreshToken: deps.tokenBox.seal(tokens.refreshToken, identity.code),
      createdAt: now,
      expiresAt: now + CONNECT_STEP_TTL_MS,
    });
    logger.info("kintone user proven by OAuth; waiting for LINE's account link", { kintoneUser: identity.code, linkRecord: identity.recordId });
    setFlowHeaders(c);
    const target = `${deps.lineAccessBaseUrl}/dialog/bot/accountLink?linkToken=${encodeURIComponent(request.linkToken)}&nonce=${encodeURIComponent(nonce)}`;
    return c.redirect(target, 302);
  });

  return app;
}
