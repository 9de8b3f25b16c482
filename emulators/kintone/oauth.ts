import { randomBytes } from "node:crypto";
import type { KintoneUser } from "./field-values.js";

/**
 * cybozu.com's OAuth 2.0 authorization server, without HTTP (oauth-routes.ts speaks it): clients,
 * authorization codes, access and refresh tokens, and who each token acts for.
 *
 * What kintone documents ("OAuthクライアントを追加する",
 * https://cybozu.dev/ja/common/docs/oauth-client/add-client/; English:
 * https://kintone.dev/en/docs/common/authentication/how-to-add-oauth-clients/):
 * - a cybozu.com administrator adds a client (name, redirect endpoint) and gets its client ID and
 *   secret, then ticks the users allowed to use it (連携利用ユーザーの設定);
 * - Confidential clients and the Authorization Code grant only;
 * - STEP3 of the same page: the authorization request carries client_id, redirect_uri (the
 *   registered endpoint), state, response_type=code and scope (space-separated), all required; the
 *   token request is a form POST to /oauth2/token with the client authenticated by HTTP Basic; the
 *   answer has access_token, token_type, expires_in, refresh_token and scope, and
 *   `grant_type=refresh_token` gives a new access token. (STEP3 is cited from memory of the page and
 *   from public kintone clients that follow it: Basic client_id:client_secret, `expires_in: 3600`;
 *   re-read the page when changing these.)
 *
 * What it does not say, and where the emulator's choice comes from:
 * - the code's lifetime: 10 minutes and single use, RFC 6749 4.1.2's recommendation (public kintone
 *   client guides say "10分有効" too); a second use revokes what the code gave (RFC 6749 4.1.2);
 * - client credentials in the body: RFC 6749 2.3.1 allows them and public kintone clients send them
 *   that way, so both are accepted (never both at once, RFC 6749 2.3);
 * - refresh tokens do not expire and are not rotated: public clients of real kintone keep one
 *   refresh token for good ("リフレッシュトークン（無期限）"). The refresh answer repeats it;
 * - error answers follow RFC 6749 5.2.
 */

/** The kintone scopes a client may ask for ("kintoneのOAuthスコープ", cybozu.dev). */
export const KINTONE_SCOPES = [
  "k:app_record:read",
  "k:app_record:write",
  "k:app_settings:read",
  "k:app_settings:write",
  "k:file:read",
  "k:file:write",
] as const;
export type KintoneScope = (typeof KINTONE_SCOPES)[number];

export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;

export interface OAuthClientDefinition {
  clientId: string;
  clientSecret: string;
  /** The registered redirect endpoint; an authorization request must name exactly this URI. */
  redirectUri: string;
  /** Login names of the users allowed to use the client; absent: every user. */
  allowedUsers?: string[];
}

/** One request to /oauth2/token, as received and answered. */
export interface OAuthTokenRequest {
  at: number;
  /** The form's parameters as sent (client_secret included when the client put it there). */
  params: Record<string, string>;
  grantType: string | undefined;
  /** The client that authenticated, or the one the request claimed. */
  clientId: string | undefined;
  /** How the client tried to authenticate (Basic wins when it sent both, which is refused). */
  clientAuth: "basic" | "body" | "none";
  status: number;
  /** The OAuth error code of a refused request. */
  error?: string;
  /** Who the tokens act for, when some were issued. */
  user?: string;
}

/** An OAuth error answer (RFC 6749 4.1.2.1 for the authorization endpoint, 5.2 for the token endpoint). */
export class OAuthError extends Error {
  override readonly name = "OAuthError";
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
  }
}

export interface TokenAnswer {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** Who a valid access token acts for. */
export interface TokenHolder {
  user: KintoneUser;
  clientId: string;
  scopes: ReadonlySet<string>;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  user: KintoneUser;
  scopes: string[];
  expiresAt: number;
  used: boolean;
  /** The grant the code was exchanged for, revoked if the code comes back (RFC 6749 4.1.2). */
  grant?: Grant;
}

/** What one authorization gave: a refresh token and the access tokens issued under it. */
interface Grant {
  clientId: string;
  user: KintoneUser;
  scopes: string[];
  refreshToken: string;
  revoked: boolean;
}

interface AccessToken {
  grant: Grant;
  scopes: string[];
  expiresAt: number;
}

/** What a successful authorization request leads to (consent is taken as given). */
export interface AuthorizationResult {
  code: string;
}

export class OAuthServer {
  readonly #clients = new Map<string, OAuthClientDefinition>();
  readonly #codes = new Map<string, AuthorizationCode>();
  readonly #grantsByRefreshToken = new Map<string, Grant>();
  readonly #accessTokens = new Map<string, AccessToken>();
  readonly tokenRequests: OAuthTokenRequest[] = [];

  constructor(private readonly now: () => number) {}

  registerClient(definition: OAuthClientDefinition): void {
    const { clientId, clientSecret, redirectUri } = definition;
    if (!clientId || !clientSecret) throw new Error("An OAuth client needs a client ID and a secret");
    if (this.#clients.has(clientId)) throw new Error(`OAuth client ${clientId} already exists`);
    let parsed: URL;
    try {
      parsed = new URL(redirectUri);
    } catch {
      throw new Error(`Redirect endpoint ${JSON.stringify(redirectUri)} is not an absolute URL`);
    }
    if (parsed.hash !== "") throw new Error("A redirect endpoint has no fragment (RFC 6749 3.1.2)");
    this.#clients.set(clientId, {
      clientId,
      clientSecret,
      redirectUri,
      ...(definition.allowedUsers ? { allowedUsers: [...definition.allowedUsers] } : {}),
    });
  }

  /** The client, when `redirectUri` is exactly its registered endpoint (else nothing may be redirected). */
  clientFor(clientId: string | undefined, redirectUri: string | undefined): OAuthClientDefinition | undefined {
    const client = clientId === undefined ? undefined : this.#clients.get(clientId);
    return client && client.redirectUri === redirectUri ? client : undefined;
  }

  /**
   * The checks of an authorization request once client and redirect URI are known good, for the
   * logged-in `user`; throws OAuthError for what is sent back to the redirect URI.
   */
  authorize(client: OAuthClientDefinition, params: Record<string, string>, user: KintoneUser): AuthorizationResult {
    const responseType = params.response_type;
    if (!responseType) throw new OAuthError("invalid_request", "response_type is required.");
    if (responseType !== "code") {
      throw new OAuthError("unsupported_response_type", "Only the authorization code grant (response_type=code) is supported.");
    }
    if (!params.state) throw new OAuthError("invalid_request", "state is required.");
    const scopes = parseScopes(params.scope);
    if (client.allowedUsers && !client.allowedUsers.includes(user.code)) {
      throw new OAuthError("access_denied", `${user.code} is not allowed to use this client.`);
    }
    const code = newSecret();
    this.#codes.set(code, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      user: { ...user },
      scopes,
      expiresAt: this.now() + AUTHORIZATION_CODE_LIFETIME_MS,
      used: false,
    });
    return { code };
  }

  /**
   * The token endpoint: authenticates the client, then runs the grant. Every call is appended to
   * `tokenRequests`, answered or refused. The parameters come as a form (RFC 6749 4.1.3).
   */
  token(
    params: Record<string, string>,
    basicAuthorization: string | undefined,
    formEncoded = true,
  ): { status: number; body: unknown } {
    const entry: OAuthTokenRequest = {
      at: this.now(),
      params: { ...params },
      grantType: params.grant_type,
      clientId: params.client_id,
      clientAuth: /^Basic\b/i.test(basicAuthorization ?? "") ? "basic" : params.client_secret !== undefined ? "body" : "none",
      status: 0,
    };
    this.tokenRequests.push(entry);
    try {
      if (!formEncoded) throw new OAuthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
      const client = this.#authenticateClient(params, basicAuthorization, entry);
      const answer = this.#grant(client, params);
      entry.status = 200;
      entry.user = answer.user;
      return { status: 200, body: answer.body };
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      entry.status = error.status;
      entry.error = error.error;
      return { status: error.status, body: { error: error.error, error_description: error.description } };
    }
  }

  /** Who `accessToken` acts for; undefined for an unknown, expired or revoked token. */
  holderOf(accessToken: string): TokenHolder | undefined {
    const token = this.#accessTokens.get(accessToken);
    if (!token || token.grant.revoked || token.expiresAt <= this.now()) return undefined;
    return { user: { ...token.grant.user }, clientId: token.grant.clientId, scopes: new Set(token.scopes) };
  }

  /** Everything a user authorized is withdrawn (an administrator unticks them, or they revoke it). */
  revokeUser(userCode: string): void {
    for (const grant of this.#grantsByRefreshToken.values()) {
      if (grant.user.code === userCode) grant.revoked = true;
    }
  }

  /** Every access token issued so far stops working, as an hour later; refresh tokens stay good. */
  expireAccessTokens(): void {
    const now = this.now();
    for (const token of this.#accessTokens.values()) token.expiresAt = Math.min(token.expiresAt, now);
  }

  /** RFC 6749 2.3.1: HTTP Basic, or client_id and client_secret in the form; one way only. */
  #authenticateClient(
    params: Record<string, string>,
    basicAuthorization: string | undefined,
    entry: OAuthTokenRequest,
  ): OAuthClientDefinition {
    const basic = parseBasic(basicAuthorization);
    const inBody = params.client_secret !== undefined;
    if (basic && inBody) throw new OAuthError("invalid_request", "Authenticate the client one way only.");
    if (basic === null) throw new OAuthError("invalid_client", "Malformed Basic credentials.", 401);
    const clientId = basic ? basic.id : params.client_id;
    const secret = basic ? basic.secret : params.client_secret;
    entry.clientId = clientId;
    if (basic && params.client_id !== undefined && params.client_id !== basic.id) {
      throw new OAuthError("invalid_request", "client_id does not match the authenticated client.");
    }
    const client = clientId === undefined ? undefined : this.#clients.get(clientId);
    if (!client || secret === undefined || secret !== client.clientSecret) {
      throw new OAuthError("invalid_client", "Client authentication failed.", 401);
    }
    return client;
  }

  #grant(client: OAuthClientDefinition, params: Record<string, string>): { body: TokenAnswer; user: string } {
    switch (params.grant_type) {
      case undefined:
      case "":
        throw new OAuthError("invalid_request", "grant_type is required.");
      case "authorization_code":
        return this.#exchangeCode(client, params);
      case "refresh_token":
        return this.#refresh(client, params);
      default:
        throw new OAuthError("unsupported_grant_type", `grant_type ${params.grant_type} is not supported.`);
    }
  }

  #exchangeCode(client: OAuthClientDefinition, params: Record<string, string>): { body: TokenAnswer; user: string } {
    if (!params.code) throw new OAuthError("invalid_request", "code is required.");
    const code = this.#codes.get(params.code);
    if (!code || code.clientId !== client.clientId) throw new OAuthError("invalid_grant", "Unknown authorization code.");
    if (code.used) {
      if (code.grant) code.grant.revoked = true;
      throw new OAuthError("invalid_grant", "The authorization code has already been used.");
    }
    if (code.expiresAt <= this.now()) throw new OAuthError("invalid_grant", "The authorization code has expired.");
    // RFC 6749 4.1.3: the same redirect_uri as in the authorization request, which was the registered one.
    if (params.redirect_uri !== code.redirectUri) {
      throw new OAuthError("invalid_grant", "redirect_uri does not match the authorization request.");
    }
    code.used = true;
    const grant: Grant = {
      clientId: client.clientId,
      user: { ...code.user },
      scopes: [...code.scopes],
      refreshToken: newSecret(),
      revoked: false,
    };
    code.grant = grant;
    this.#grantsByRefreshToken.set(grant.refreshToken, grant);
    return { body: this.#issueAccessToken(grant, grant.scopes), user: grant.user.code };
  }

  #refresh(client: OAuthClientDefinition, params: Record<string, string>): { body: TokenAnswer; user: string } {
    if (!params.refresh_token) throw new OAuthError("invalid_request", "refresh_token is required.");
    const grant = this.#grantsByRefreshToken.get(params.refresh_token);
    if (!grant || grant.clientId !== client.clientId || grant.revoked) {
      throw new OAuthError("invalid_grant", "The refresh token is invalid or has been revoked.");
    }
    // RFC 6749 6: a narrower scope may be asked for, never a wider one.
    const scopes = params.scope === undefined ? grant.scopes : parseScopes(params.scope);
    if (scopes.some((s) => !grant.scopes.includes(s))) {
      throw new OAuthError("invalid_scope", "The requested scope exceeds what was granted.");
    }
    return { body: this.#issueAccessToken(grant, scopes), user: grant.user.code };
  }

  #issueAccessToken(grant: Grant, scopes: string[]): TokenAnswer {
    const accessToken = newSecret();
    this.#accessTokens.set(accessToken, {
      grant,
      scopes: [...scopes],
      expiresAt: this.now() + ACCESS_TOKEN_LIFETIME_SECONDS * 1000,
    });
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      refresh_token: grant.refreshToken,
      scope: scopes.join(" "),
    };
  }
}

/** A space-separated scope list of known kintone scopes (RFC 6749 3.3); empty or unknown: invalid_scope. */
function parseScopes(raw: string | undefined): string[] {
  const scopes = [...new Set((raw ?? "").split(" ").filter((s) => s !== ""))];
  if (scopes.length === 0) throw new OAuthError("invalid_scope", "scope is required.");
  const unknown = scopes.filter((s) => !(KINTONE_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new OAuthError("invalid_scope", `Unknown scope: ${unknown.join(" ")}.`);
  return scopes;
}

/**
 * `Authorization: Basic base64(id:secret)`, each part form-urlencoded (RFC 6749 2.3.1). undefined:
 * no Basic header; null: a Basic header that cannot be read.
 */
function parseBasic(header: string | undefined): { id: string; secret: string } | undefined | null {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) return header !== undefined && /^Basic\b/i.test(header) ? null : undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  try {
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, " "));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function newSecret(): string {
  return randomBytes(24).toString("base64url");
}
