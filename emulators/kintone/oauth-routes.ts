import type { Context, Hono } from "hono";
import { randomBytes } from "node:crypto";
import type { KintoneStore } from "./kintone-store.js";
import { OAuthError, type OAuthServer } from "./oauth.js";

/**
 * The browser side of cybozu.com that OAuth needs, over HTTP:
 * - `GET /login` — a stand-in for cybozu.com's login page (test-only; real kintone asks for a
 *   password). `?user=<login name>` logs that user in: an httpOnly session cookie, then 200, or a
 *   302 to `redirect` (a path on this host) when given. Without `user` it lists the users to pick.
 * - `GET /oauth2/authorization` — the authorization endpoint (oauth.ts has what kintone documents).
 *   Every cybozu.com page needs a login, so a browser without a session goes to /login first and
 *   comes back. Consent is taken as given: real kintone shows the client's name and scopes with
 *   許可 / 拒否 buttons; the emulator answers as if 許可 was pressed.
 * - `POST /oauth2/token` — the token endpoint.
 *
 * A bad client_id or redirect_uri gets an error page, never a redirect (RFC 6749 4.1.2.1: the
 * server must not send the browser to an unverified URI); other refusals go back to redirect_uri
 * with `error`, `error_description` and `state`.
 */

/** The session cookie the login stand-in sets (real cybozu.com's own cookie names are not copied). */
export const SESSION_COOKIE = "kintone_emulator_session";

/** Logged-in browsers: session id -> login name. */
export class LoginSessions {
  readonly #sessions = new Map<string, string>();

  /** A new session for `userCode`; returns its id. */
  start(userCode: string): string {
    const id = randomBytes(18).toString("base64url");
    this.#sessions.set(id, userCode);
    return id;
  }

  /** The user of the session the Cookie header carries, if any. */
  userOf(cookieHeader: string | undefined): string | undefined {
    for (const part of (cookieHeader ?? "").split(";")) {
      const [name, ...rest] = part.trim().split("=");
      if (name === SESSION_COOKIE) return this.#sessions.get(rest.join("="));
    }
    return undefined;
  }
}

export interface OAuthRouteDeps {
  store: KintoneStore;
  oauth: OAuthServer;
  sessions: LoginSessions;
}

export function registerOAuthRoutes(app: Hono, deps: OAuthRouteDeps): void {
  const { store, oauth, sessions } = deps;

  app.get("/login", (c) => {
    const userCode = c.req.query("user");
    const redirect = c.req.query("redirect");
    if (userCode === undefined) return c.html(loginPage(store, redirect));
    const user = store.findUser(userCode);
    if (!user) {
      return c.html(page("Unknown user", `No user has the login name ${escapeHtml(userCode)}.`, `ログイン名 ${escapeHtml(userCode)} のユーザーはいません。`), 400);
    }
    c.header("Set-Cookie", `${SESSION_COOKIE}=${sessions.start(user.code)}; Path=/; HttpOnly; SameSite=Lax`);
    if (redirect !== undefined && isLocalPath(redirect)) return c.redirect(redirect, 302);
    return c.html(page("Logged in", `Logged in as ${escapeHtml(user.name)} (${escapeHtml(user.code)}).`, `${escapeHtml(user.name)}（${escapeHtml(user.code)}）でログインしました。`));
  });

  app.get("/oauth2/authorization", (c) => {
    const url = new URL(c.req.url);
    const userCode = sessions.userOf(c.req.header("cookie"));
    const user = userCode === undefined ? undefined : store.findUser(userCode);
    if (!user) return c.redirect(`/login?redirect=${encodeURIComponent(url.pathname + url.search)}`, 302);

    const params = Object.fromEntries(url.searchParams);
    const client = oauth.clientFor(params.client_id, params.redirect_uri);
    if (!client) {
      return c.html(
        page(
          "Invalid OAuth request",
          "The client_id is unknown, or redirect_uri is not the redirect endpoint registered for it.",
          "client_id が登録されていないか、redirect_uri が登録されたリダイレクトエンドポイントと一致しません。",
        ),
        400,
      );
    }
    const back = new URL(client.redirectUri);
    try {
      const { code } = oauth.authorize(client, params, user);
      back.searchParams.set("code", code);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      back.searchParams.set("error", error.error);
      back.searchParams.set("error_description", error.description);
    }
    if (params.state) back.searchParams.set("state", params.state);
    return c.redirect(back.toString(), 302);
  });

  app.post("/oauth2/token", async (c) => {
    const formEncoded = /^application\/x-www-form-urlencoded\b/i.test(c.req.header("content-type") ?? "");
    const params = formEncoded ? Object.fromEntries(new URLSearchParams(await c.req.text())) : {};
    const authorization = c.req.header("authorization");
    const { status, body } = oauth.token(params, authorization, formEncoded);
    return tokenResponse(c, status, body, /^Basic\b/i.test(authorization ?? ""));
  });

  app.all("/oauth2/token", (c) =>
    tokenResponse(c, 405, { error: "invalid_request", error_description: "Use POST." }, false),
  );
}

/** RFC 6749 5.1 / 5.2: JSON, never cached; a failed Basic authentication names its scheme. */
function tokenResponse(c: Context, status: number, body: unknown, usedBasic: boolean): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json;charset=UTF-8",
    "cache-control": "no-store",
    pragma: "no-cache",
  };
  if (status === 401 && usedBasic) headers["www-authenticate"] = 'Basic realm="oauth2"';
  if (status === 405) headers.allow = "POST";
  return c.body(JSON.stringify(body), status as 200, headers);
}

/** A path on this host ("/oauth2/authorization?…"), never another origin ("//evil", "https://…"). */
function isLocalPath(target: string): boolean {
  return target.startsWith("/") && !target.startsWith("//") && !target.includes("\\");
}

function loginPage(store: KintoneStore, redirect: string | undefined): string {
  const suffix = redirect !== undefined && isLocalPath(redirect) ? `&redirect=${encodeURIComponent(redirect)}` : "";
  const items = store
    .listUsers()
    .map((u) => `<li><a href="/login?user=${encodeURIComponent(u.code)}${suffix}">${escapeHtml(u.name)} (${escapeHtml(u.code)})</a></li>`)
    .join("");
  return page("Log in (kintone emulator)", `Choose who you are:</p><ul>${items}</ul><p>`, "ログインするユーザーを選んでください。");
}

/** A small page in English and Japanese. `en` may carry markup; callers escape what users sent. */
function page(title: string, en: string, ja: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p lang="en">${en}</p><p lang="ja">${ja}</p></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
