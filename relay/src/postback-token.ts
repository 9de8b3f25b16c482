import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/**
 * Postback `data` of a relay-sent button: `k1.<deliveryId>.<buttonId>.<mac>`, where mac is
 * base64url(HMAC-SHA256(key, "k1.<deliveryId>.<buttonId>")). Short enough for LINE's 300-char
 * limit, unforgeable without the key, and verifiable with any of the configured keys so the
 * signing key can be rotated while older messages still work.
 */
export interface PostbackTarget {
  deliveryId: string;
  buttonId: string;
}

export interface PostbackTokens {
  sign(target: PostbackTarget): string;
  verify(data: string): PostbackTarget | undefined;
}

const PREFIX = "k1";
const PART = /^[A-Za-z0-9_-]{1,64}$/;
/** 32 bytes in canonical base64url (no padding): 43 characters, the last one with no stray low bits. */
const CANONICAL_MAC = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

export function createPostbackTokens(keys: readonly string[]): PostbackTokens {
  if (keys.length === 0) throw new Error("createPostbackTokens: at least one key is required");
  const mac = (key: string, payload: string) => createHmac("sha256", key).update(payload).digest();
  const [signingKey] = keys as [string, ...string[]];
  return {
    sign({ deliveryId, buttonId }) {
      if (!PART.test(deliveryId) || !PART.test(buttonId)) throw new Error("postback token parts must be [A-Za-z0-9_-]{1,64}");
      const payload = `${PREFIX}.${deliveryId}.${buttonId}`;
      return `${payload}.${mac(signingKey, payload).toString("base64url")}`;
    },
    verify(data) {
      const parts = data.split(".");
      if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
      const [, deliveryId = "", buttonId = "", signature = ""] = parts;
      // Only the spelling sign() makes: Buffer.from(x, "base64url") would also accept "=", "!",
      // whitespace and non-zero trailing bits, so one token would have many valid forms.
      if (!PART.test(deliveryId) || !PART.test(buttonId) || !CANONICAL_MAC.test(signature)) return undefined;
      const given = Buffer.from(signature, "base64url");
      const payload = `${PREFIX}.${deliveryId}.${buttonId}`;
      for (const key of keys) {
        const expected = mac(key, payload);
        if (given.length === expected.length && timingSafeEqual(given, expected)) return { deliveryId, buttonId };
      }
      return undefined;
    },
  };
}

/** When RELAY_SIGNING_KEY is not set: a key derived from the channel secret, stable across restarts. */
export function deriveSigningKey(channelSecret: string): string {
  return Buffer.from(hkdfSync("sha256", channelSecret, "kintone-line-relay", "postback-token-v1", 32)).toString("base64url");
}
