import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Refresh tokens at rest: AES-256-GCM with RELAY_TOKEN_KEY, a random 96-bit IV per seal, and the
 * kintone user code as additional authenticated data, so a sealed token copied onto another
 * user's row does not open. Stored as `v1.<iv>.<ciphertext>.<tag>` (base64url): the version lets
 * a later key or algorithm sit beside this one.
 */
export interface TokenBox {
  seal(plaintext: string, kintoneUserCode: string): string;
  /** Throws TokenBoxError when the value was sealed with another key, for another user, or altered. */
  open(sealed: string, kintoneUserCode: string): string;
}

export class TokenBoxError extends Error {
  override readonly name = "TokenBoxError";
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** RELAY_TOKEN_KEY: 32 bytes as 64 hex digits or as base64 (standard or url-safe); undefined when it is neither. */
export function decodeTokenKey(raw: string): Buffer | undefined {
  const value = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return bytes.length === 32 ? bytes : undefined;
}

export function createTokenBox(key: Buffer): TokenBox {
  if (key.length !== 32) throw new Error("RELAY_TOKEN_KEY must be 32 bytes");
  return {
    seal(plaintext, kintoneUserCode) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(kintoneUserCode, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return ["v1", iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === "string" ? part : part.toString("base64url"))).join(".");
    },
    open(sealed, kintoneUserCode) {
      const [version, iv, ciphertext, tag] = sealed.split(".");
      if (version !== "v1" || iv === undefined || ciphertext === undefined || tag === undefined) throw new TokenBoxError("not a sealed token");
      const ivBytes = Buffer.from(iv, "base64url");
      const tagBytes = Buffer.from(tag, "base64url");
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new TokenBoxError("not a sealed token");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(kintoneUserCode, "utf8"));
        decipher.setAuthTag(tagBytes);
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
      } catch (error) {
        // GCM's tag check: another key, another user, or altered bytes. Nothing more can be said.
        throw new TokenBoxError("the token does not open with RELAY_TOKEN_KEY (another key, another user, or altered)", { cause: error });
      }
    },
  };
}
