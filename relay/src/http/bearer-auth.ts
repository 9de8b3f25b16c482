import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { HttpError } from "./http-error.js";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * `Authorization: Bearer <secret>`, compared in constant time: both sides are hashed first so
 * neither the content nor the length of the secret leaks through timing.
 */
export function bearerAuth(secret: string): MiddlewareHandler {
  if (secret.length < 16) throw new Error("bearerAuth: the secret must be at least 16 characters");
  const expected = digest(secret);
  return async function bearerAuthHandler(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new HttpError(401, "unauthorized", "missing or wrong bearer secret in the Authorization header");
    }
    await next();
  };
}
