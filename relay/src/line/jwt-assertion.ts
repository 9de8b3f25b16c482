import { createPrivateKey, sign, type JsonWebKey, type KeyObject } from "node:crypto";

/**
 * The client assertion for channel access token v2.1: an RS256 JWT signed with the assertion
 * private key whose public half is registered in the LINE Developers Console under `kid`.
 */

export const ASSERTION_AUDIENCE = "https://api.line.me/";
/** LINE accepts an assertion whose exp is at most 30 minutes ahead. */
export const ASSERTION_LIFETIME_SECONDS = 30 * 60;
/** The longest v2.1 token LINE issues. */
export const MAX_TOKEN_EXP_SECONDS = 30 * 24 * 60 * 60;

/**
 * The private key as PEM (PKCS#8 or PKCS#1) or as a JWK in JSON, the form LINE's key-pair guide
 * produces. A `{ "privateKey": {...} }` wrapper is accepted too. Throws on anything else, with a
 * message that never repeats the key material.
 */
export function parseAssertionPrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith("{")) {
      const parsed = JSON.parse(trimmed) as { kty?: unknown; privateKey?: unknown };
      const jwk = (typeof parsed.kty === "string" ? parsed : parsed.privateKey) as JsonWebKey | undefined;
      if (!jwk || typeof jwk !== "object") throw new Error("no JWK");
      key = createPrivateKey({ key: jwk, format: "jwk" });
    } else {
      key = createPrivateKey(trimmed);
    }
  } catch {
    throw new Error("the assertion signing key is neither a PEM private key nor a private JWK (JSON)");
  }
  if (key.asymmetricKeyType !== "rsa") throw new Error("the assertion signing key must be an RSA key (RS256)");
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Error(`the assertion signing key must be RSA 2048 bits or more (got ${bits})`);
  return key;
}

export interface AssertionInput {
  channelId: string;
  kid: string;
  privateKey: KeyObject;
  nowMs: number;
  /** Lifetime of the token to issue, in seconds (token_exp). Default: 30 days. */
  tokenExpSeconds?: number;
}

function segment(value: object): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

export function createClientAssertion(input: AssertionInput): string {
  const nowSeconds = Math.floor(input.nowMs / 1000);
  const header = segment({ alg: "RS256", typ: "JWT", kid: input.kid });
  const payload = segment({
    iss: input.channelId,
    sub: input.channelId,
    aud: ASSERTION_AUDIENCE,
    exp: nowSeconds + ASSERTION_LIFETIME_SECONDS,
    token_exp: input.tokenExpSeconds ?? MAX_TOKEN_EXP_SECONDS,
  });
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), input.privateKey).toString("base64url");
  return `${header}.${payload}.${signature}`;
}
