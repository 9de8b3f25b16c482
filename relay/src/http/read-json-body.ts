import type { Context } from "hono";
import { closeConnectionAfterAnswer } from "./connection.js";
import { HttpError } from "./http-error.js";

/*
 * The size of a body is limited by the route's `limitBody` (Hono's bodyLimit), before anything
 * here runs. What Hono does not do: hand over the raw bytes a signature is computed over, answer
 * a body that is not JSON with the relay's 400 (its `c.req.json()` throws a bare SyntaxError,
 * which would be a 500), and stop waiting for a client that sends slowly or stops.
 */

export interface BodyTimeouts {
  /** Longest wait for the next bytes of the body. */
  idleMs: number;
  /** Longest time for the whole body. */
  totalMs: number;
}

/** LINE and kintone's proxy send a body at once: a few seconds is plenty, and a stalled one is cut. */
export const DEFAULT_BODY_TIMEOUTS: BodyTimeouts = { idleMs: 3_000, totalMs: 8_000 };

const bodyTimeout = (c: Context, why: string) => {
  closeConnectionAfterAnswer(c);
  return new HttpError(408, "body_timeout", `the request body ${why}; send it at once`, undefined, { Connection: "close" });
};

/**
 * The raw body, read chunk by chunk with an idle and a total timeout: a client that stops sending
 * gets 408 and its connection is closed, so neither the socket nor what it sent so far is kept.
 */
export async function readBodyBytes(c: Context, timeouts: BodyTimeouts = DEFAULT_BODY_TIMEOUTS): Promise<Uint8Array> {
  return (await readWebBody(c, timeouts, Infinity)) as Uint8Array;
}

/** readBodyBytes, stopping with "too_large" as soon as more than `maxBytes` arrived. */
export async function readWebBody(c: Context, timeouts: BodyTimeouts, maxBytes: number): Promise<Uint8Array | "too_large"> {
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const deadline = Date.now() + timeouts.totalMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const waitMs = Math.min(timeouts.idleMs, deadline - Date.now());
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, waitMs));
      });
      const next = await Promise.race([reader.read(), timedOut]);
      clearTimeout(timer);
      if (next === "timeout") {
        void reader.cancel().catch(() => undefined);
        throw bodyTimeout(c, Date.now() >= deadline ? `took longer than ${timeouts.totalMs / 1000} s` : `stalled for ${timeouts.idleMs / 1000} s`);
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        void reader.cancel().catch(() => undefined);
        return "too_large";
      }
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
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
