import { createHmac, timingSafeEqual } from "node:crypto";

/** `x-line-signature`: Base64 HMAC-SHA256 of the raw body with the channel secret, compared in constant time. */
export function isValidLineSignature(channelSecret: string, rawBody: Uint8Array, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = createHmac("sha256", channelSecret).update(rawBody).digest();
  const given = Buffer.from(signature, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
