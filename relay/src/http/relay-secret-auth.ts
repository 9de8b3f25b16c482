import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";

const unauthorized = (message: string) => (c: Context) => c.json({ error: { code: "unauthorized", message } }, 401);

/**
 * `Authorization: Bearer <secret>` for /v1, through Hono's bearerAuth: it hashes both sides before
 * a constant-time compare, so neither the content nor the length of a secret leaks through
 * timing. Every secret in `secrets` is accepted (the current one and those being retired), so
 * RELAY_SECRET can be rotated without downtime. Each refusal is a 401 in the relay's error shape;
 * a malformed header too (Hono would answer 400), so a caller learns nothing more from the header's form.
 */
export function requireRelaySecret(secrets: readonly string[]): MiddlewareHandler {
  if (secrets.length === 0) throw new Error("requireRelaySecret: at least one secret is needed");
  if (secrets.some((secret) => secret.length < 16)) throw new Error("requireRelaySecret: each secret must be at least 16 characters");
  return bearerAuth({
    token: [...secrets],
    noAuthenticationHeader: { message: unauthorized("missing Authorization header: send Authorization: Bearer <RELAY_SECRET>") },
    invalidAuthenticationHeader: { message: unauthorized("the Authorization header is not Bearer <RELAY_SECRET>") },
    invalidToken: { message: unauthorized("wrong bearer secret in the Authorization header") },
  });
}
