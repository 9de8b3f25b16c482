import type { messagingApi } from "@line/bot-sdk";
import type * as Undici from "undici";
import type { Dispatcher } from "undici";
import { z } from "zod";

/**
 * What the push and reply senders share: one LINE API call with the channel access token and a
 * timeout, and the reading of LINE's answer. Neither sender imports the other.
 *
 * Our own call, not `messagingApi.MessagingApiClient` (read in @line/bot-sdk 10.8,
 * dist/http-fetch.js): its `post` re-serialises the request object (`JSON.stringify(body)`), so a
 * stored push could not be resent byte for byte under its X-Line-Retry-Key; it passes no
 * AbortSignal, so a call cannot time out; it calls the global `fetch` with the token fixed when the
 * client is made. Status, headers and body of a failed call are on its `HTTPFetchError`, but the
 * first three points alone rule it out here. The bodies and answers are the SDK's types.
 *
 * Through undici's `request`, not the global `fetch`: on a relay draining a backlog, fetch's web
 * streams, its per-call `AbortSignal.timeout` and its header objects took about half of the main
 * thread. `request` writes the string body as given (a retry's bytes are the first attempt's), and
 * the timeout is undici's own headers/body timer on the keep-alive connections of one `Agent`.
 */
export interface AccessTokenSource {
  getToken(): Promise<string>;
  invalidate(token: string): void;
}

export interface LineHttpOptions {
  apiBaseUrl: string;
  tokens: AccessTokenSource;
  /** The connections the calls go through (`createLineConnections`); undici's global agent when absent. */
  connections?: LineConnections;
  /** The longest wait for LINE's answer headers, and between parts of its body; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * undici, loaded at the first call to LINE rather than at start-up: it is the largest package in
 * the relay (about 700 KB of the compiled bundle), and a relay that has just started must answer
 * its first request (LINE's webhook, a health check) before it pushes or replies anything.
 */
let undici: Promise<typeof Undici> | undefined;
// undici is CommonJS: Node's own loader gives its exports by name, the compiled relay's chunk
// (esbuild) only as `default`; both are taken.
const loadUndici = () =>
  (undici ??= import("undici").then((module) => ("Agent" in module ? module : (module as { default: typeof Undici }).default)));

/** Keep-alive connections for the LINE API, made at the first call; closed when the relay closes. */
export interface LineConnections {
  dispatcher(): Promise<Dispatcher>;
  close(): Promise<void>;
}

/**
 * One agent for the relay's calls to LINE's base URL. `timeoutMs` also bounds opening a connection.
 */
export function createLineConnections(options: { timeoutMs?: number } = {}): LineConnections {
  let agent: Promise<Dispatcher> | undefined;
  return {
    dispatcher: () => (agent ??= loadUndici().then(({ Agent }) => new Agent({ connectTimeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }))),
    close: async () => {
      if (agent) await (await agent).close();
    },
  };
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
  let token: string;
  try {
    token = await options.tokens.getToken();
  } catch (error) {
    return { kind: "retryable", status: null, message: `no channel access token: ${(error as Error).message}` };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Dispatcher.ResponseData;
  try {
    const [{ request }, dispatcher] = await Promise.all([loadUndici(), options.connections?.dispatcher()]);
    response = await request(options.apiBaseUrl + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...call.headers },
      body: call.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (error) {
    return { kind: "retryable", status: null, message: `LINE ${path}: ${describeFailure(error)}` };
  }
  const status = response.statusCode;
  const headers = response.headers;
  const requestId = headerValue(headers, "x-line-request-id");
  const text = await response.body.text().catch(() => "");
  const parsed = parseJson(text);
  if (status >= 200 && status < 300) {
    const body = call.response?.safeParse(parsed);
    return { kind: "accepted", status, requestId, body: body?.success ? body.data : undefined };
  }
  if (status === 409 && hasHeader(call.headers, "x-line-retry-key")) {
    return { kind: "duplicate", acceptedRequestId: headerValue(headers, "x-line-accepted-request-id"), requestId };
  }
  const error = errorBodySchema.safeParse(parsed);
  const message = error.success ? error.data.message : text.slice(0, 300);
  if (status === 401) {
    options.tokens.invalidate(token);
    return { kind: "retryable", status: 401, message: `LINE ${path}: 401 ${message} (token renewed)`, retryAfterMs: 0, requestId };
  }
  if (status === 429 || status >= 500) {
    const header = headerValue(headers, "retry-after");
    const retryAfter = Number(header);
    // Capped: a huge value (99,999,999 s is three years) would park the work until long after anyone cares.
    const capped = Number.isFinite(retryAfter) && retryAfter * 1000 > MAX_RETRY_AFTER_MS;
    return {
      kind: "retryable",
      status,
      message: `LINE ${path}: ${status} ${message}`,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) } : {}),
      ...(capped && header !== null ? { retryAfterCappedFrom: header } : {}),
      requestId,
    };
  }
  return { kind: "rejected", status, message, details: error.success ? (error.data.details ?? []) : [], requestId };
}

/** undici names its timeouts by code (connect, headers, body); anything else is the socket's own error. */
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) return "timed out";
  return error instanceof Error ? error.message : String(error);
}

/** undici gives header names in lower case; a repeated header comes as an array: its first value. */
function headerValue(headers: Dispatcher.ResponseData["headers"], name: string): string | null {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
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
