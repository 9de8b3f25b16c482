import type { Context } from "hono";
import { HttpError } from "./http-error.js";

/*
 * The size of a body is limited by the route's `limitBody` (Hono's bodyLimit), before anything
 * here runs. What Hono does not do: hand over the raw bytes a signature is computed over, and
 * answer a body that is not JSON with the relay's 400 (its `c.req.json()` throws a bare
 * SyntaxError, which would be a 500).
 */

/**
 * The raw body. With a Content-Length this is the node adapter's fast path (a stream reader costs
 * the webhook a third of its throughput); Node stops the body at that length.
 */
export async function readBodyBytes(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.arrayBuffer());
}

/** The body as JSON; 400 when it is not JSON. */
export async function readJsonBody(c: Context): Promise<{ raw: string; json: unknown }> {
  const raw = new TextDecoder().decode(await readBodyBytes(c));
  try {
    return { raw, json: JSON.parse(raw) as unknown };
  } catch (error) {
    throw new HttpError(400, "invalid_json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}
