import type { Context } from "hono";
import { HttpError } from "./http-error.js";

/**
 * Reads the body as text within `maxBytes` (413 beyond, checked on the bytes actually read, not
 * only on Content-Length) and parses it as JSON (400 when it is not).
 */
export async function readJsonBody(c: Context, maxBytes: number): Promise<{ raw: string; json: unknown }> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  const raw = new TextDecoder().decode(bytes);
  try {
    return { raw, json: JSON.parse(raw) as unknown };
  } catch (error) {
    throw new HttpError(400, "invalid_json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "payload_too_large", `the request body is larger than ${Math.round(maxBytes / 1024)} KB`);
}
