import type { messagingApi } from "@line/bot-sdk";
import { z } from "zod";

/**
 * What the push and reply senders share: one LINE API call with the channel access token and a
 * timeout, and the reading of LINE's answer. Neither sender imports the other.
 *
 * Our own fetch, not `messagingApi.MessagingApiClient` (read in @line/bot-sdk 10.8,
 * dist/http-fetch.js): its `post` re-serialises the request object (`JSON.stringify(body)`), so a
 * stored push could not be resent byte for byte under its X-Line-Retry-Key; it passes no
 * AbortSignal, so a call cannot time out; it calls the global `fetch` with the token fixed when the
 * client is made. Status, headers and body of a failed call are on its `HTTPFetchError`, but the
 * first three points alone rule it out here. The bodies and answers are the SDK's types.
 */
export interface AccessTokenSource {
  getToken(): Promise<string>;
  invalidate(token: string): void;
}

export interface LineHttpOptions {
  apiBaseUrl: string;
  tokens: AccessTokenSource;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export type LineErrorDetail = messagingApi.ErrorDetail;

export type LineCallOutcome<Body = unknown> =
  /** 2xx. `body` is LINE's answer when it has the documented shape, else undefined. */
  | { kind: "accepted"; status: number; requestId: string | null; body: Body | undefined }
  /** 409 to a request with a retry key: an earlier attempt was accepted. */
  | { kind: "duplicate"; acceptedRequestId: string | null; requestId: string | null }
  /** 429, 5xx, timeout, dropped connection, or a token that stopped working: try again later. */
  | { kind: "retryable"; status: number | null; message: string; retryAfterMs?: number; retryAfterCappedFrom?: string; requestId?: string | null }
  /** Any other 4xx: trying again would not help. */
  | { kind: "rejected"; status: number; message: string; details: LineErrorDetail[]; requestId: string | null };

/** The longest wait a Retry-After from LINE may ask for; longer ones are cut to this (and the caller logs it). */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

export interface LineCall<Body> {
  path: string;
  /** The exact bytes to send: a retry resends them unchanged. */
  body: string;
  headers?: Record<string, string>;
  /** How to read a 2xx answer (the SDK's response type). */
  response?: z.ZodType<Body>;
}

/** LINE's error body (messagingApi.ErrorResponse): `message`, and `details` naming the property. */
const errorBodySchema = z.object({
  message: z.string(),
  details: z.array(z.object({ message: z.string().optional(), property: z.string().optional() })).optional(),
}) satisfies z.ZodType<messagingApi.ErrorResponse>;

export async function callLine<Body = unknown>(options: LineHttpOptions, call: LineCall<Body>): Promise<LineCallOutcome<Body>> {
  const { path } = call;
  const doFetch = options.fetch ?? fetch;
  let token: string;
  try {
    token = await options.tokens.getToken();
  } catch (error) {
    return { kind: "retryable", status: null, message: `no channel access token: ${(error as Error).message}` };
  }
  let response: Response;
  try {
    response = await doFetch(options.apiBaseUrl + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...call.headers },
      body: call.body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const cause = (error as Error).name === "TimeoutError" ? "timed out" : (error as Error).message;
    return { kind: "retryable", status: null, message: `LINE ${path}: ${cause}` };
  }
  const requestId = response.headers.get("x-line-request-id");
  const text = await response.text().catch(() => "");
  const parsed = parseJson(text);
  if (response.ok) {
    const body = call.response?.safeParse(parsed);
    return { kind: "accepted", status: response.status, requestId, body: body?.success ? body.data : undefined };
  }
  if (response.status === 409 && hasHeader(call.headers, "x-line-retry-key")) {
    return { kind: "duplicate", acceptedRequestId: response.headers.get("x-line-accepted-request-id"), requestId };
  }
  const error = errorBodySchema.safeParse(parsed);
  const message = error.success ? error.data.message : text.slice(0, 300);
  if (response.status === 401) {
    options.tokens.invalidate(token);
    return { kind: "retryable", status: 401, message: `LINE ${path}: 401 ${message} (token renewed)`, retryAfterMs: 0, requestId };
  }
  if (response.status === 429 || response.status >= 500) {
    const header = response.headers.get("retry-after");
    const retryAfter = Number(header);
    // Capped: a huge value (99,999,999 s is three years) would park the work until long after anyone cares.
    const capped = Number.isFinite(retryAfter) && retryAfter * 1000 > MAX_RETRY_AFTER_MS;
    return {
      kind: "retryable",
      status: response.status,
      message: `LINE ${path}: ${response.status} ${message}`,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) } : {}),
      ...(capped && header !== null ? { retryAfterCappedFrom: header } : {}),
      requestId,
    };
  }
  return { kind: "rejected", status: response.status, message, details: error.success ? (error.data.details ?? []) : [], requestId };
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
