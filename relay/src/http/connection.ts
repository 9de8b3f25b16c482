import { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

/** The node request and response behind a Hono context, when served by @hono/node-server (not in `app.request()`). */
export function nodeBindings(c: Context): { incoming: IncomingMessage; outgoing: ServerResponse } | undefined {
  const env: unknown = c.env;
  if (typeof env !== "object" || env === null || !("incoming" in env) || !("outgoing" in env)) return undefined;
  const { incoming, outgoing } = env;
  return incoming instanceof IncomingMessage && outgoing instanceof ServerResponse ? { incoming, outgoing } : undefined;
}

/**
 * Closes the connection once the answer is out (or after `graceMs` if the client does not take
 * it): a refused or timed-out body is never read to its end, and the socket and its buffers are
 * not kept for a client that stopped sending. The answer should carry `Connection: close`.
 */
export function closeConnectionAfterAnswer(c: Context, graceMs = 1_000): void {
  const node = nodeBindings(c);
  if (!node) return;
  const socket = node.incoming.socket;
  const destroy = () => socket.destroy();
  node.outgoing.once("finish", destroy);
  node.outgoing.once("close", destroy);
  setTimeout(destroy, graceMs).unref();
}
