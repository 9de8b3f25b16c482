import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { closeConnectionAfterAnswer, nodeBindings } from "./connection.js";
import { HttpError } from "./http-error.js";
import { DEFAULT_BODY_TIMEOUTS, readWebBody, type BodyTimeouts } from "./read-json-body.js";

/**
 * The raw body of a hot route (the LINE webhook), at most `maxBytes`, with the idle and total
 * timeouts of readBodyBytes: 413 for a declared or actual length over the limit, 408 for a body
 * that stalls; either way the connection closes after the answer, so the rest is never read.
 *
 * Served by @hono/node-server, the bytes come straight from Node's request stream. Going through
 * `c.req.raw.body` (which Hono's bodyLimit and readBodyBytes do) makes the server build a whole
 * fetch Request for the call: an AbortController (made transferable, which is slow on Node 20),
 * a web ReadableStream over the socket and its reader. On the webhook that was about a third of
 * the main thread's time per event (CPU profile under a paced 1,000 req/s). Elsewhere (Hono's
 * `app.request()` in tests) the web stream is read, with the same limit.
 */
export async function readBodyWithin(c: Context, maxBytes: number, timeouts: BodyTimeouts = DEFAULT_BODY_TIMEOUTS): Promise<Uint8Array> {
  const message = `the request body is larger than ${Math.round(maxBytes / 1024)} KB`;
  const tooLarge = () => {
    closeConnectionAfterAnswer(c);
    return new HttpError(413, "payload_too_large", message, undefined, { Connection: "close" });
  };
  const declared = c.req.header("content-length");
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge();
  const node = nodeBindings(c);
  if (!node || node.incoming.readableDidRead || node.incoming.readableEnded) {
    const bytes = await readWebBody(c, timeouts, maxBytes);
    if (bytes === "too_large") throw tooLarge();
    return bytes;
  }
  const outcome = await readIncoming(node.incoming, maxBytes, timeouts);
  if (outcome instanceof Uint8Array) return outcome;
  if (outcome === "too_large") throw tooLarge();
  closeConnectionAfterAnswer(c);
  if (outcome === "aborted") throw new HttpError(400, "body_incomplete", "the request body ended before its end (the client went away)", undefined, { Connection: "close" });
  const why = outcome === "total" ? `took longer than ${timeouts.totalMs / 1000} s` : `stalled for ${timeouts.idleMs / 1000} s`;
  throw new HttpError(408, "body_timeout", `the request body ${why}; send it at once`, undefined, { Connection: "close" });
}

type Outcome = Uint8Array | "too_large" | "idle" | "total" | "aborted";

/** Node's request stream to its end: chunks as they come, one idle timer re-armed per chunk, one total timer. */
function readIncoming(incoming: IncomingMessage, maxBytes: number, timeouts: BodyTimeouts): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: Outcome) => {
      clearTimeout(idle);
      clearTimeout(total);
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onAborted);
      incoming.off("aborted", onAborted);
      // A body left unread (refused, timed out) is paused, not drained: its connection closes.
      if (!(outcome instanceof Uint8Array)) incoming.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) return finish("too_large");
      chunks.push(chunk);
      idle.refresh();
    };
    const onEnd = () => finish(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    const onAborted = () => finish("aborted");
    const idle = setTimeout(() => finish("idle"), timeouts.idleMs);
    const total = setTimeout(() => finish("total"), timeouts.totalMs);
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("error", onAborted);
    incoming.once("aborted", onAborted);
  });
}
