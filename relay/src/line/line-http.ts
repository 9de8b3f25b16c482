/**
 * What the push and reply senders share: one LINE API call with the channel access token and a
 * timeout, and the reading of LINE's answer. Neither sender imports the other.
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

export type LineCallOutcome =
  | { kind: "accepted"; status: number; requestId: string | null; body: unknown }
  | { kind: "duplicate"; acceptedRequestId: string | null }
  /** 429, 5xx, timeout, dropped connection, or a token that stopped working: try again later. */
  | { kind: "retryable"; status: number | null; message: string; retryAfterMs?: number; retryAfterCappedFrom?: string }
  /** Any other 4xx: trying again would not help. */
  | { kind: "rejected"; status: number; message: string; details: Array<{ message?: string; property?: string }> };

/** The longest wait a Retry-After from LINE may ask for; longer ones are cut to this (and the caller logs it). */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

export async function callLine(
  options: LineHttpOptions,
  path: string,
  body: string,
  extraHeaders: Record<string, string> = {},
): Promise<LineCallOutcome> {
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
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...extraHeaders },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const cause = (error as Error).name === "TimeoutError" ? "timed out" : (error as Error).message;
    return { kind: "retryable", status: null, message: `LINE ${path}: ${cause}` };
  }
  const requestId = response.headers.get("x-line-request-id");
  const text = await response.text().catch(() => "");
  const parsed = parseJson(text);
  const message = typeof parsed === "object" && parsed && "message" in parsed ? String(parsed.message) : text.slice(0, 300);
  if (response.ok) return { kind: "accepted", status: response.status, requestId, body: parsed };
  if (response.status === 409 && extraHeaders["x-line-retry-key"]) {
    return { kind: "duplicate", acceptedRequestId: response.headers.get("x-line-accepted-request-id") };
  }
  if (response.status === 401) {
    options.tokens.invalidate(token);
    return { kind: "retryable", status: 401, message: `LINE ${path}: 401 ${message} (token renewed)`, retryAfterMs: 0 };
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
    };
  }
  const details =
    typeof parsed === "object" && parsed && "details" in parsed && Array.isArray(parsed.details)
      ? (parsed.details as Array<{ message?: string; property?: string }>)
      : [];
  return { kind: "rejected", status: response.status, message, details };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
