import { z } from "zod";
import { KintoneError } from "./kintone-client.js";
import { parseRetryAfter } from "./kintone-rest-client.js";

/**
 * cybozu.com's OAuth endpoints, as "OAuthクライアントを追加する" documents them
 * (https://cybozu.dev/ja/common/docs/oauth-client/add-client/): the Authorization Code grant
 * only; the browser goes to `/oauth2/authorization` with client_id, redirect_uri (the registered
 * endpoint), state, response_type=code and scope; the code is exchanged at `/oauth2/token` by a
 * form POST with the client authenticated by HTTP Basic (client_id:client_secret), which answers
 * `{access_token, token_type, expires_in, refresh_token, scope}`; `grant_type=refresh_token`
 * gives a new access token for the same refresh token (kintone does not rotate it, so the stored
 * one stays).
 *
 * Failures are KintoneError: network, timeouts, 429 and 5xx retryable without a code; a refusal
 * (RFC 6749 5.2) with the OAuth error as `code` (`invalid_grant`: the code was used or expired,
 * or the refresh token was revoked; `invalid_client`: the relay's client ID or secret is wrong).
 */
export interface KintoneOAuthClient {
  /** Where the browser goes to authorize the relay (kintone logs the user in first if needed). */
  authorizationUrl(state: string): string;
  exchangeCode(code: string): Promise<OAuthTokens>;
  refresh(refreshToken: string): Promise<OAuthTokens>;
}

export interface OAuthTokens {
  accessToken: string;
  /** Seconds, as kintone says (3600). */
  expiresIn: number;
  /** Present after a code exchange; after a refresh only if kintone sent a new one. */
  refreshToken?: string;
}

export interface KintoneOAuthOptions {
  /** KINTONE_BASE_URL: the cybozu.com domain serving both OAuth endpoints. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** `{RELAY_PUBLIC_URL}/connect/kintone/callback`, exactly as registered. */
  redirectUri: string;
  /** What the relay asks for: reading and writing records (comments and status included). */
  scopes: readonly string[];
  /** Per token request; default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * What the relay asks for (cybozu.dev's scope list): reading records, and writing them
 * (`k:app_record:write` covers adding records, comments and process-management status), plus
 * reading app settings, which `GET /k/v1/app/status.json` needs to learn a process's actions and
 * whether the next status asks the actor to choose an assignee. A scope never grants more than
 * the user's own rights.
 */
export const RELAY_OAUTH_SCOPES = ["k:app_record:read", "k:app_record:write", "k:app_settings:read"] as const;

export const CALLBACK_PATH = "/connect/kintone/callback";

const tokenAnswerSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
});
const errorAnswerSchema = z.object({ error: z.string(), error_description: z.string().optional() });

export function createKintoneOAuthClient(options: KintoneOAuthOptions): KintoneOAuthClient {
  const doFetch = options.fetch ?? fetch;
  const basic = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`, "utf8").toString("base64")}`;

  const requestTokens = async (what: string, form: Record<string, string>): Promise<OAuthTokens> => {
    let response: Response;
    try {
      response = await doFetch(`${options.baseUrl}/oauth2/token`, {
        method: "POST",
        headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        redirect: "manual",
      });
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      throw new KintoneError(`kintone OAuth ${what}: ${timedOut ? "timed out" : (error as Error).message}`, undefined, undefined);
    }
    const text = await response.text().catch(() => "");
    const json = parseJson(text);
    if (response.ok) {
      const tokens = tokenAnswerSchema.safeParse(json);
      if (!tokens.success) throw new KintoneError(`kintone OAuth ${what}: the answer has no access token`, 502, undefined);
      return {
        accessToken: tokens.data.access_token,
        expiresIn: tokens.data.expires_in ?? 3600,
        ...(tokens.data.refresh_token ? { refreshToken: tokens.data.refresh_token } : {}),
      };
    }
    const refusal = errorAnswerSchema.safeParse(json);
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after") ?? undefined);
    if (response.status === 429 || response.status >= 500 || !refusal.success) {
      const detail = refusal.success ? refusal.data.error : text.slice(0, 200);
      throw new KintoneError(`kintone OAuth ${what}: ${response.status} ${detail}`, response.status, undefined, retryAfterMs);
    }
    const { error, error_description: description } = refusal.data;
    throw new KintoneError(`kintone OAuth ${what}: ${error}${description ? ` (${description})` : ""}`, response.status, error);
  };

  return {
    authorizationUrl(state) {
      // %20 between scopes, not URLSearchParams' "+": the parameter is a space-separated list.
      const query = Object.entries({ client_id: options.clientId, redirect_uri: options.redirectUri, state, response_type: "code", scope: options.scopes.join(" ") })
        .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
        .join("&");
      return `${options.baseUrl}/oauth2/authorization?${query}`;
    },
    exchangeCode: (code) => requestTokens("code exchange", { grant_type: "authorization_code", code, redirect_uri: options.redirectUri }),
    refresh: (refreshToken) => requestTokens("token refresh", { grant_type: "refresh_token", refresh_token: refreshToken }),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
