import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** A kintone app ID as the relay names apps (path, body, X-Relay-App): a positive whole number. */
export const APP_ID_PATTERN = /^[1-9][0-9]{0,17}$/;

/** What every app key looks like: 32 bytes of HMAC in base64url. */
export const APP_KEY_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The key of one app: HMAC-SHA256 of "app:<appId>" keyed with a relay secret, base64url. A key is
 * derived, never stored: rotating RELAY_SECRET rotates every app key with it.
 */
export function deriveAppKey(relaySecret: string, appId: string): string {
  if (!APP_ID_PATTERN.test(appId)) throw new Error(`appId must be a positive whole number, got "${appId}"`);
  return createHmac("sha256", relaySecret).update(`app:${appId}`).digest("base64url");
}

/** Compares hashes, so neither the content nor the length of either side leaks through timing. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/**
 * Whether `key` is `appId`'s key under any of `relaySecrets` (the current one issues keys; the
 * previous ones, still listed during a rotation, keep the keys already pasted into kintone valid).
 * Every secret is tried, so the time taken does not say which one matched.
 */
export function isAppKey(relaySecrets: readonly string[], appId: string, key: string): boolean {
  let match = false;
  for (const secret of relaySecrets) if (sameSecret(deriveAppKey(secret, appId), key)) match = true;
  return match;
}
