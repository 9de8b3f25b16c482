import { type Permission, type TokenGrant, readApiTokens, requirePermission } from "./api-token-auth.js";
import { oauthScopeMissing, oauthTokenRejected } from "./errors.js";
import type { KintoneUser } from "./field-values.js";
import { ADMINISTRATOR, type KintoneStore } from "./kintone-store.js";
import type { KintoneScope, OAuthServer } from "./oauth.js";

/**
 * Who a REST request acts as. kintone's REST API takes, among others, API tokens
 * (`X-Cybozu-API-Token`, acting as "Administrator") and OAuth access tokens
 * (`Authorization: Bearer`, acting as the user who authorized the client; "認証" on every API page of
 * cybozu.dev lists "OAuth認証"). The emulator takes these two; a request carrying both is taken as an
 * API-token request, as before OAuth was emulated (kintone's order between them is not documented).
 */
export type Actor =
  | { method: "apiToken"; user: KintoneUser; grants: TokenGrant[] }
  | { method: "oauth"; user: KintoneUser; clientId: string; scopes: ReadonlySet<string> };

/** The kintone scope an API needs when called with an OAuth token ("kintoneのOAuthスコープ", cybozu.dev). */
export type RouteScope = Extract<KintoneScope, "k:app_record:read" | "k:app_record:write" | "k:app_settings:read">;

/** Reads the request's credentials; throws kintone's answer when they are missing or refused. */
export function authenticate(
  store: KintoneStore,
  oauth: OAuthServer,
  headers: Record<string, string | undefined>,
): Actor {
  const apiToken = headers["x-cybozu-api-token"];
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? "")?.[1];
  if ((apiToken ?? "").trim() !== "" || bearer === undefined) {
    return { method: "apiToken", user: ADMINISTRATOR, grants: readApiTokens(store, apiToken) };
  }
  const holder = oauth.holderOf(bearer);
  // The user may have been removed since; kintone would refuse the token then too.
  if (!holder || !store.findUser(holder.user.code)) throw oauthTokenRejected();
  return { method: "oauth", user: holder.user, clientId: holder.clientId, scopes: holder.scopes };
}

/**
 * An OAuth token must carry the API's scope (403 CB_OA01, errors.ts). Users' own app permissions are
 * not emulated: a user may do in any app what the token's scope allows, except where a route checks more.
 */
export function requireScope(actor: Actor, scope: RouteScope): void {
  if (actor.method === "oauth" && !actor.scopes.has(scope)) throw oauthScopeMissing();
}

/** An API token must be the app's and allow what the API does (api-token-auth.ts). */
export function requireAppPermission(actor: Actor, appId: number, permission: Permission): void {
  if (actor.method === "apiToken") requirePermission(actor.grants, appId, permission);
}
