import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * At most `maxBytes` of request body, else 413 in the relay's error shape. Hono's bodyLimit
 * refuses a larger Content-Length before reading, and reads a body without one (chunked) only up
 * to the limit, so no request is ever buffered whole.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const message = `the request body is larger than ${Math.round(maxBytes / 1024)} KB`;
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => c.json({ error: { code: "payload_too_large", message } }, 413),
  });
}
