import type { MiddlewareHandler } from "hono";
import { closeConnectionAfterAnswer } from "./connection.js";
import { HttpError } from "./http-error.js";

export interface BodyBudgetOptions {
  /** Bytes that all bodies being read (and handled) under this budget may hold together. */
  totalBytes: number;
  /** Bodies up to this size are "small" and may use the whole budget. */
  smallBodyBytes: number;
  /** Kept for small bodies: larger ones are admitted only while this much stays free. */
  reservedForSmallBytes: number;
  /** What a body without Content-Length (chunked) counts as: the route's limit. */
  unknownLengthBytes: number;
}

/**
 * A byte budget shared by every unauthenticated body in flight (the LINE webhook: anyone can
 * send one, and the signature is checked only over the whole body). A body reserves its declared
 * length before a byte of it is read, and gives it back when its request is answered. Over the
 * budget the answer is 503 with Retry-After at once, without reading, and the connection closes.
 * Part of the budget is kept for small bodies, so that LINE's webhooks (a few KB) are still
 * admitted while large, slow bodies hold the rest.
 */
export function admitBodyWithin(options: BodyBudgetOptions): MiddlewareHandler & { inUse(): number } {
  if (options.reservedForSmallBytes >= options.totalBytes) throw new Error("admitBodyWithin: the small-body reserve must be below the total");
  let inUse = 0;
  const handler: MiddlewareHandler = async (c, next) => {
    const declared = c.req.header("content-length");
    const bytes = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : options.unknownLengthBytes;
    const limit = bytes <= options.smallBodyBytes ? options.totalBytes : options.totalBytes - options.reservedForSmallBytes;
    if (inUse + bytes > limit) {
      closeConnectionAfterAnswer(c);
      throw new HttpError(503, "busy", "too many request bodies are being received; try again shortly", undefined, {
        "Retry-After": "1",
        Connection: "close",
      });
    }
    inUse += bytes;
    try {
      await next();
    } finally {
      inUse -= bytes;
    }
  };
  return Object.assign(handler, { inUse: () => inUse });
}
