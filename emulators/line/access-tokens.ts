import { randomBytes } from "node:crypto";
import { AssertionError, decodeAssertion, hasValidSignature, toPublicKey } from "./jwt-verify.js";

/**
 * The emulator's channel access tokens: what was issued, to which channel, until when (by the
 * injected clock), and what was revoked. The token endpoints' form handling lives here too; the
 * answers are LINE's OAuth shape `{error, error_description}`.
 */

export interface EmulatedChannel {
  channelId: string;
  channelSecret: string;
  /** kid -> public key (PEM, or a JWK as JSON text) registered for v2.1 assertions. */
  assertionKeys?: Record<string, string>;
}

export type TokenKind = "long-lived" | "stateless" | "v2.1";

export interface IssuedToken {
  kind: TokenKind;
  token: string;
  channelId: string | null;
  keyId?: string;
  issuedAt: number;
  /** ms by the emulator clock; null: never expires (long-lived). */
  expiresAt: number | null;
  revoked: boolean;
}

export type TokenState = "valid" | "unknown" | "expired" | "revoked";

export interface OAuthAnswer {
  status: number;
  body: Record<string, unknown> | null;
}

export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
export const ASSERTION_AUDIENCE = "https://api.line.me/";
const MAX_ASSERTION_LIFETIME_S = 30 * 60;
const MAX_TOKEN_EXP_S = 30 * 24 * 60 * 60;
const MAX_LIVE_V21_TOKENS = 30;

function oauthError(error: string, description: string, status = 400): OAuthAnswer {
  return { status, body: { error, error_description: description } };
}

export class AccessTokenRegistry {
  readonly issued: IssuedToken[] = [];
  private readonly byValue = new Map<string, IssuedToken>();
  private readonly channels = new Map<string, EmulatedChannel>();

  constructor(
    private readonly now: () => number,
    channels: EmulatedChannel[],
    longLivedTokens: string[],
    private readonly statelessTtlSeconds: number,
  ) {
    for (const channel of channels) this.channels.set(channel.channelId, channel);
    for (const token of longLivedTokens) this.add({ kind: "long-lived", token, channelId: null, issuedAt: now(), expiresAt: null, revoked: false });
  }

  channel(channelId: string): EmulatedChannel | undefined {
    return this.channels.get(channelId);
  }

  registerAssertionKey(channelId: string, kid: string, publicKey: string): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`unknown channel ${channelId}`);
    channel.assertionKeys = { ...channel.assertionKeys, [kid]: publicKey };
  }

  state(token: string): TokenState {
    const entry = this.byValue.get(token);
    if (!entry) return "unknown";
    if (entry.revoked) return "revoked";
    if (entry.expiresAt !== null && this.now() >= entry.expiresAt) return "expired";
    return "valid";
  }

  /** Issues a token directly, without the OAuth round trip (for tests that need one at hand). */
  issue(kind: "stateless" | "v2.1", channelId: string, ttlSeconds?: number): IssuedToken {
    const issuedAt = this.now();
    const ttl = ttlSeconds ?? this.statelessTtlSeconds;
    return this.add({
      kind,
      token: randomBytes(kind === "v2.1" ? 48 : 36).toString("base64url"),
      channelId,
      ...(kind === "v2.1" ? { keyId: randomBytes(16).toString("base64url") } : {}),
      issuedAt,
      expiresAt: issuedAt + ttl * 1000,
      revoked: false,
    });
  }

  addLongLived(token: string): void {
    if (!this.byValue.has(token)) this.add({ kind: "long-lived", token, channelId: null, issuedAt: this.now(), expiresAt: null, revoked: false });
  }

  revoke(token: string): boolean {
    const entry = this.byValue.get(token);
    if (!entry) return false;
    entry.revoked = true;
    return true;
  }

  /** Every issued (not long-lived) token expires now. */
  expireAll(): void {
    const now = this.now();
    for (const entry of this.issued) if (entry.expiresAt !== null && entry.expiresAt > now) entry.expiresAt = now;
  }

  /** POST /oauth2/v3/token: client secret or JWT assertion; always 15 minutes (configurable). */
  issueStatelessFromForm(form: Record<string, string>): OAuthAnswer {
    if (form.grant_type !== "client_credentials") {
      return oauthError("unsupported_grant_type", "grant_type must be client_credentials");
    }
    let channelId: string;
    if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
      const verified = this.verifyAssertion(form, false);
      if ("status" in verified) return verified;
      channelId = verified.channelId;
    } else {
      const channel = form.client_id ? this.channels.get(form.client_id) : undefined;
      if (!channel || channel.channelSecret !== form.client_secret) {
        return oauthError("invalid_client", "invalid client_id or client_secret");
      }
      channelId = channel.channelId;
    }
    const entry = this.issue("stateless", channelId, this.statelessTtlSeconds);
    return {
      status: 200,
      body: { token_type: "Bearer", access_token: entry.token, expires_in: this.statelessTtlSeconds },
    };
  }

  /** POST /oauth2/v2.1/token: JWT assertion; lifetime = token_exp (<= 30 days); <= 30 live per channel. */
  issueV21FromForm(form: Record<string, string>): OAuthAnswer {
    if (form.grant_type !== "client_credentials") {
      return oauthError("unsupported_grant_type", "grant_type must be client_credentials");
    }
    const verified = this.verifyAssertion(form, true);
    if ("status" in verified) return verified;
    const live = this.issued.filter(
      (entry) => entry.kind === "v2.1" && entry.channelId === verified.channelId && this.state(entry.token) === "valid",
    );
    if (live.length >= MAX_LIVE_V21_TOKENS) {
      return oauthError("invalid_request", `a channel can have at most ${MAX_LIVE_V21_TOKENS} valid v2.1 tokens`);
    }
    const entry = this.issue("v2.1", verified.channelId, verified.tokenExpSeconds);
    return {
      status: 200,
      body: { access_token: entry.token, expires_in: verified.tokenExpSeconds, token_type: "Bearer", key_id: entry.keyId },
    };
  }

  /** POST /oauth2/v2.1/revoke: client_id + client_secret + access_token. */
  revokeV21FromForm(form: Record<string, string>): OAuthAnswer {
    const channel = form.client_id ? this.channels.get(form.client_id) : undefined;
    if (!channel || channel.channelSecret !== form.client_secret) {
      return oauthError("invalid_client", "invalid client_id or client_secret");
    }
    const entry = form.access_token ? this.byValue.get(form.access_token) : undefined;
    if (entry && entry.kind === "v2.1" && entry.channelId === channel.channelId) entry.revoked = true;
    return { status: 200, body: null };
  }

  private verifyAssertion(
    form: Record<string, string>,
    needsTokenExp: boolean,
  ): { channelId: string; tokenExpSeconds: number } | OAuthAnswer {
    if (form.client_assertion_type !== JWT_BEARER) {
      return oauthError("invalid_request", `client_assertion_type must be ${JWT_BEARER}`);
    }
    if (!form.client_assertion) return oauthError("invalid_request", "client_assertion must be specified");
    let assertion;
    try {
      assertion = decodeAssertion(form.client_assertion);
    } catch (error) {
      return oauthError("invalid_request", error instanceof AssertionError ? error.message : "invalid client_assertion");
    }
    const { header, claims } = assertion;
    if (header.alg !== "RS256") return oauthError("invalid_request", "the JWT header alg must be RS256");
    if (typeof header.kid !== "string" || !header.kid) return oauthError("invalid_request", "the JWT header must name the kid");
    if (typeof claims.iss !== "string" || claims.sub !== claims.iss) {
      return oauthError("invalid_request", "the JWT iss and sub must both be the channel ID");
    }
    const channel = this.channels.get(claims.iss);
    if (!channel) return oauthError("invalid_client", "unknown channel (iss)");
    const registered = channel.assertionKeys?.[header.kid];
    if (!registered) return oauthError("invalid_client", "no assertion signing key is registered under this kid");
    let valid: boolean;
    try {
      valid = hasValidSignature(assertion, toPublicKey(registered));
    } catch {
      valid = false;
    }
    if (!valid) return oauthError("invalid_client", "the JWT signature is invalid");
    if (claims.aud !== ASSERTION_AUDIENCE) return oauthError("invalid_request", `the JWT aud must be ${ASSERTION_AUDIENCE}`);
    const nowSeconds = this.now() / 1000;
    if (typeof claims.exp !== "number" || !Number.isFinite(claims.exp)) {
      return oauthError("invalid_request", "the JWT exp must be a number of seconds");
    }
    if (claims.exp <= nowSeconds) return oauthError("invalid_request", "the JWT has expired (exp)");
    if (claims.exp > nowSeconds + MAX_ASSERTION_LIFETIME_S) {
      return oauthError("invalid_request", "the JWT exp must be at most 30 minutes ahead");
    }
    if (!needsTokenExp) return { channelId: channel.channelId, tokenExpSeconds: 0 };
    const tokenExp = claims.token_exp;
    if (typeof tokenExp !== "number" || !Number.isInteger(tokenExp) || tokenExp <= 0 || tokenExp > MAX_TOKEN_EXP_S) {
      return oauthError("invalid_request", `token_exp must be an integer number of seconds, 1 to ${MAX_TOKEN_EXP_S}`);
    }
    return { channelId: channel.channelId, tokenExpSeconds: tokenExp };
  }

  private add(entry: IssuedToken): IssuedToken {
    this.issued.push(entry);
    this.byValue.set(entry.token, entry);
    return entry;
  }
}
