import type { KeyObject } from "node:crypto";
import type { channelAccessToken } from "@line/bot-sdk";
import { z } from "zod";
import type { RelayStore } from "../store/relay-store.js";
import { createClientAssertion, MAX_TOKEN_EXP_SECONDS, parseAssertionPrivateKey } from "./jwt-assertion.js";

/**
 * Where the relay's channel access token comes from. A long-lived token is used as given;
 * stateless (15 min) and v2.1 (up to 30 days) tokens are issued on first use, cached, renewed
 * before they expire, and renewed at once after `invalidate` (the sender calls it on a 401).
 * Concurrent callers share one renewal request. Token values never appear in errors.
 *
 * LINE's answers are read as the SDK's `channelAccessToken.*` types, but the requests are ours, not
 * `channelAccessToken.ChannelAccessTokenClient`'s (read in @line/bot-sdk 10.8, dist/http-fetch.js):
 * its `postForm` passes no AbortSignal, so a token request that LINE never answers would hold every
 * sender waiting on the shared renewal; and it calls the global `fetch`, not the one given in deps.
 */

export type ChannelAccessTokenConfig =
  | { kind: "long-lived"; token: string }
  | { kind: "stateless"; channelId: string; channelSecret: string }
  | {
      kind: "v2.1";
      channelId: string;
      /** The assertion private key: PEM, or the JWK (JSON) LINE's guide produces. */
      privateKeyPem: string;
      kid: string;
      /** Lifetime to ask for; default (and maximum) 30 days. */
      tokenExpSeconds?: number;
      /** The channel secret, to revoke the token at shutdown (LINE allows 30 live v2.1 tokens). */
      channelSecret?: string;
    };

export interface ChannelAccessTokenDeps {
  /** e.g. https://api.line.me (no trailing path). */
  apiBaseUrl: string;
  now: () => number;
  fetch?: typeof fetch;
  /** Per token request; default 10 s. */
  timeoutMs?: number;
  /**
   * The store, when it is shared by several instances (PostgreSQL): the token is then issued by
   * one instance under the store's lock and read by the others, never revoked at one instance's
   * shutdown. A store without `sharedChannelToken` (SQLite, one process) changes nothing.
   */
  shared?: Pick<RelayStore, "sharedChannelToken" | "forgetChannelToken">;
}

export interface ChannelAccessTokenSource {
  getToken(): Promise<string>;
  /** Forget this token (LINE answered 401 to it): the next getToken issues a new one. */
  invalidate(token: string): void;
  /**
   * At shutdown: revoke the v2.1 token this process holds (when the channel secret is known), so
   * restarts do not pile up live tokens. Never throws; a no-op for the other kinds.
   */
  release(): Promise<void>;
}

export class ChannelAccessTokenError extends Error {
  override readonly name = "ChannelAccessTokenError";

  constructor(
    message: string,
    /** HTTP status of LINE's answer; 0 when there was none (network, timeout, configuration). */
    readonly status: number,
    /** LINE's OAuth `error` code (`invalid_client`, ...), when it gave one. */
    readonly code?: string,
  ) {
    super(message);
  }

  /** Worth trying again later: no answer, rate-limited, or a LINE server error. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

interface IssuedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MIN_RENEWAL_MARGIN_MS = 60_000;
/** After a failed early renewal, keep using the still-valid token this long before asking again. */
const RENEWAL_BACKOFF_MS = 5_000;
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export function createChannelAccessTokenSource(
  config: ChannelAccessTokenConfig,
  deps: ChannelAccessTokenDeps,
): ChannelAccessTokenSource {
  if (config.kind === "long-lived") {
    if (!config.token) throw new ChannelAccessTokenError("the long-lived channel access token is empty", 0, "invalid_config");
    const token = config.token;
    // Nothing to renew: a 401 on a long-lived token needs a person, not a retry here.
    return { getToken: async () => token, invalidate: () => {}, release: async () => {} };
  }
  const ownIssue = config.kind === "stateless" ? statelessIssuer(config, deps) : v21Issuer(config, deps);
  const shared = sharedIssuer(config, deps, ownIssue);
  const issue = shared?.issue ?? ownIssue;

  let current: IssuedToken | undefined;
  let pending: Promise<IssuedToken> | undefined;
  let retryNotBefore = 0;

  const renew = (): Promise<IssuedToken> => {
    pending ??= issue()
      .then((issued) => {
        current = issued;
        retryNotBefore = 0;
        return issued;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return {
    async getToken() {
      const held = current;
      const now = deps.now();
      if (!held || now >= held.expiresAt) return (await renew()).token;
      if (!renewalDue(held, now) || now < retryNotBefore) return held.token;
      try {
        return (await renew()).token;
      } catch (error) {
        // Renewing early failed but the token still works: use it, and ask again a little later.
        if (current === held && deps.now() < held.expiresAt) {
          retryNotBefore = deps.now() + RENEWAL_BACKOFF_MS;
          return held.token;
        }
        throw error;
      }
    },
    invalidate(token) {
      if (current?.token === token) current = undefined;
      shared?.forget(token);
    },
    async release() {
      const held = current;
      current = undefined;
      // A shared token stays: the other instances go on using it until it expires.
      if (shared || config.kind !== "v2.1" || !config.channelSecret || !held) return;
      try {
        await (deps.fetch ?? fetch)(deps.apiBaseUrl.replace(/\/+$/, "") + "/oauth2/v2.1/revoke", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ client_id: config.channelId, client_secret: config.channelSecret, access_token: held.token }).toString(),
          signal: AbortSignal.timeout(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        });
      } catch {
        // Best effort: an unrevoked token simply expires (start-relay asks for day-long ones).
      }
    },
  };
}

/** Renew when less than max(60 s, 10 % of the lifetime) is left (at most half of a short lifetime). */
function renewalDue(issued: IssuedToken, now: number): boolean {
  return now >= issued.expiresAt - renewalMargin(issued.expiresAt - issued.issuedAt);
}

function renewalMargin(lifetimeMs: number): number {
  return Math.min(Math.max(MIN_RENEWAL_MARGIN_MS, lifetimeMs * 0.1), lifetimeMs / 2);
}

/** A stateless token lives 15 minutes (developers.line.biz/en/reference/messaging-api/#issue-stateless-channel-access-token). */
const STATELESS_LIFETIME_MS = 15 * 60_000;

/**
 * Issuing through the shared store: the stored token while it has more than the renewal margin
 * left (the margin follows from the lifetime asked for, so every instance renews at the same
 * point), else one instance issues under the store's lock and stores it for the others.
 */
function sharedIssuer(
  config: Exclude<ChannelAccessTokenConfig, { kind: "long-lived" }>,
  deps: ChannelAccessTokenDeps,
  issue: () => Promise<IssuedToken>,
): { issue: () => Promise<IssuedToken>; forget: (token: string) => void } | undefined {
  const store = deps.shared;
  const obtain = store?.sharedChannelToken?.bind(store);
  if (!store || !obtain) return undefined;
  const lifetimeMs = config.kind === "stateless" ? STATELESS_LIFETIME_MS : (config.tokenExpSeconds ?? MAX_TOKEN_EXP_SECONDS) * 1000;
  const margin = renewalMargin(lifetimeMs);
  // The channel, never a secret: several channels may share one database.
  const key = `${config.kind}:${config.channelId}`;
  return {
    async issue() {
      const token = await obtain(key, deps.now() + margin, async () => {
        const issued = await issue();
        return { token: issued.token, expiresAt: issued.expiresAt };
      });
      return { token: token.token, expiresAt: token.expiresAt, issuedAt: token.expiresAt - lifetimeMs };
    },
    forget(token) {
      // Best effort: if it fails, the next instance's 401 forgets it again.
      store.forgetChannelToken?.(key, token).catch(() => undefined);
    },
  };
}

function statelessIssuer(
  config: Extract<ChannelAccessTokenConfig, { kind: "stateless" }>,
  deps: ChannelAccessTokenDeps,
): () => Promise<IssuedToken> {
  if (!config.channelId || !config.channelSecret) {
    throw new ChannelAccessTokenError("stateless tokens need the channel ID and the channel secret", 0, "invalid_config");
  }
  return () =>
    requestToken(deps, "/oauth2/v3/token", "stateless", {
      form: { grant_type: "client_credentials", client_id: config.channelId, client_secret: config.channelSecret },
      secrets: [config.channelSecret],
    });
}

function v21Issuer(
  config: Extract<ChannelAccessTokenConfig, { kind: "v2.1" }>,
  deps: ChannelAccessTokenDeps,
): () => Promise<IssuedToken> {
  if (!config.channelId || !config.kid) {
    throw new ChannelAccessTokenError("v2.1 tokens need the channel ID and the assertion key ID (kid)", 0, "invalid_config");
  }
  const tokenExpSeconds = config.tokenExpSeconds ?? MAX_TOKEN_EXP_SECONDS;
  if (!Number.isInteger(tokenExpSeconds) || tokenExpSeconds < 1 || tokenExpSeconds > MAX_TOKEN_EXP_SECONDS) {
    throw new ChannelAccessTokenError(`tokenExpSeconds must be 1 to ${MAX_TOKEN_EXP_SECONDS}`, 0, "invalid_config");
  }
  let privateKey: KeyObject;
  try {
    privateKey = parseAssertionPrivateKey(config.privateKeyPem);
  } catch (error) {
    throw new ChannelAccessTokenError((error as Error).message, 0, "invalid_config");
  }
  return () => {
    const assertion = createClientAssertion({
      channelId: config.channelId,
      kid: config.kid,
      privateKey,
      nowMs: deps.now(),
      tokenExpSeconds,
    });
    return requestToken(deps, "/oauth2/v2.1/token", "v2.1", {
      form: { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion },
      secrets: [assertion],
    });
  };
}

async function requestToken(
  deps: ChannelAccessTokenDeps,
  path: string,
  what: "stateless" | "v2.1",
  request: { form: Record<string, string>; secrets: string[] },
): Promise<IssuedToken> {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const scrub = (text: string) => request.secrets.reduce((out, secret) => (secret ? out.split(secret).join("[redacted]") : out), text);
  const issuedAt = deps.now();
  let response: Response;
  try {
    response = await doFetch(deps.apiBaseUrl.replace(/\/+$/, "") + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(request.form).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new ChannelAccessTokenError(`could not reach LINE to issue a ${what} channel access token: ${scrub(reason)}`, 0);
  }
  const text = await response.text().catch(() => "");
  const json = parseJson(text);
  if (!response.ok) {
    const refusal = tokenErrorSchema.safeParse(json);
    const code = refusal.success ? refusal.data.error : undefined;
    const description = (refusal.success ? (refusal.data.error_description ?? refusal.data.message) : undefined) ?? text.slice(0, 200);
    const detail = [code, description].filter(Boolean).join(": ");
    throw new ChannelAccessTokenError(
      `LINE refused to issue a ${what} channel access token: HTTP ${response.status}${detail ? ` ${scrub(detail)}` : ""}`,
      response.status,
      code,
    );
  }
  const issued = (what === "stateless" ? statelessTokenSchema : v21TokenSchema).safeParse(json);
  if (!issued.success) {
    // The body may hold a token: describe it, never quote it.
    throw new ChannelAccessTokenError(
      `LINE's answer to the ${what} token request lacks access_token or a positive expires_in`,
      response.status,
    );
  }
  return { token: issued.data.access_token, issuedAt, expiresAt: issuedAt + issued.data.expires_in * 1000 };
}

/** POST /oauth2/v3/token's answer. */
const statelessTokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string(),
}) satisfies z.ZodType<channelAccessToken.IssueStatelessChannelAccessTokenResponse>;

/** POST /oauth2/v2.1/token's answer: the same, and the key ID LINE gives the token. */
const v21TokenSchema = statelessTokenSchema.extend({ key_id: z.string() }) satisfies z.ZodType<channelAccessToken.IssueChannelAccessTokenResponse>;

/** An OAuth refusal (channelAccessToken.ErrorResponse); some answers carry a Messaging API style `message` instead. */
const tokenErrorSchema = z.object({
  error: z.string().optional(),
  error_description: z.string().optional(),
  message: z.string().optional(),
}) satisfies z.ZodType<channelAccessToken.ErrorResponse>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
