import { createHash, randomBytes } from "node:crypto";

/**
 * The connect flow's one-time secrets: the `t` of the start link, the OAuth `state`, the browser
 * cookie bound to it, the account-link nonce. Each is 256 random bits (the nonce 192: LINE takes
 * 10 to 255 characters and asks for at least 128 bits), base64url, and the store keeps only its
 * SHA-256, so a copy of the database opens no step of anyone's flow.
 */
export const CONNECT_STEP_TTL_MS = 10 * 60_000;

export function newFlowSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function hashFlowSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("base64url");
}
