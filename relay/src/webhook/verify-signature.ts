import { createHmac, timingSafeEqual } from "node:crypto";

/** 32 bytes (HMAC-SHA256) in canonical base64: 43 characters, the last one with no stray low bits, then "=". */
const CANONICAL_SHA256_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * `x-line-signature`: Base64 HMAC-SHA256 of the raw body with the channel secret, compared in
 * constant time. Only the one canonical spelling verifies: Node's base64 decoder would also
 * accept extra `=`, unknown characters, whitespace and non-zero trailing bits.
 */
export function isValidLineSignature(channelSecret: string, rawBody: Uint8Array, signature: string | undefined): boolean {
  if (!signature || !CANONICAL_SHA256_BASE64.test(signature)) return false;
  const expected = createHmac("sha256", channelSecret).update(rawBody).digest();
  const given = Buffer.from(signature, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
