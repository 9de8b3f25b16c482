import type { Context } from "hono";
import { HttpError } from "./http-error.js";

/**
 * Reads the raw body, at most `maxBytes`: a larger Content-Length is refused before reading, and
 * a body without one (chunked) is read only up to the limit, never buffered whole. 413 beyond.
 */
export async function readBodyBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, "payload_too_large", `the request body is larger than ${Math.round(maxBytes / 1024)} KB`);
  const declared = c.req.header("content-length");
  if (declared !== undefined) {
    // Node's server stops the body at Content-Length, so it cannot outgrow a checked header; and
    // arrayBuffer() is the node adapter's fast path (the stream reader below costs a third of
    // the webhook's throughput).
    if (Number(declared) > maxBytes) throw tooLarge();
    return new Uint8Array(await c.req.arrayBuffer());
  }
  const stream = c.req.raw.body;
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The body as JSON, within `maxBytes` (413); 400 when it is not JSON. */
export async function readJsonBody(c: Context, maxBytes: number): Promise<{ raw: string; json: unknown }> {
  const raw = new TextDecoder().decode(await readBodyBytes(c, maxBytes));
  try {
    return { raw, json: JSON.parse(raw) as unknown };
  } catch (error) {
    throw new HttpError(400, "invalid_json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}
