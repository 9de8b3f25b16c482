import { createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";

/**
 * Verification of the client assertion LINE expects for v2.1 (and stateless-by-JWT) tokens:
 * an RS256 JWT whose header names the assertion key (`kid`) registered in the console.
 * Written apart from the relay's signer on purpose, so a mistake on one side is not mirrored.
 */

export interface AssertionClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  token_exp?: unknown;
}

export interface DecodedAssertion {
  header: { alg?: unknown; typ?: unknown; kid?: unknown };
  claims: AssertionClaims;
  signedPart: string;
  signature: Buffer;
}

export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AssertionError(`the JWT ${what} is not base64url-encoded JSON`);
}

export function decodeAssertion(jwt: string): DecodedAssertion {
  const parts = jwt.split(".");
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) {
    throw new AssertionError("client_assertion is not a JWT (header.payload.signature)");
  }
  const [header, payload, signature] = parts as [string, string, string];
  return {
    header: decodeSegment(header, "header"),
    claims: decodeSegment(payload, "payload"),
    signedPart: `${header}.${payload}`,
    signature: Buffer.from(signature, "base64url"),
  };
}

/** A registered assertion public key: PEM (SPKI / PKCS#1) or a JWK as JSON text. */
export function toPublicKey(key: string): KeyObject {
  const trimmed = key.trim();
  if (trimmed.startsWith("{")) {
    return createPublicKey({ key: JSON.parse(trimmed) as JsonWebKey, format: "jwk" });
  }
  return createPublicKey(trimmed);
}

export function hasValidSignature(assertion: DecodedAssertion, publicKey: KeyObject): boolean {
  return verify("RSA-SHA256", Buffer.from(assertion.signedPart), publicKey, assertion.signature);
}
