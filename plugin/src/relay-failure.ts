/**
 * Why a call to the relay failed, in the user's language, for the staff notices of the record
 * pages. Never the raw answer: a proxy's JSON error is read for its message, and the relay's own
 * `{error: {code, message}}` (already parsed into RelayError by relay-client.ts) gives its code
 * and message.
 */
import type { RecordMessages } from "./record-messages";
import { RelayError } from "./relay-client";

/** The words inside "the relay could not be reached (...)": a proxy's JSON error read for its message. */
export function proxyReason(message: string): string {
  const inner = /\((.*)\)\s*$/s.exec(message)?.[1] ?? "";
  let reason = inner;
  try {
    const parsed = JSON.parse(inner) as unknown;
    if (typeof parsed === "string") reason = parsed;
    else if (parsed && typeof parsed === "object") {
      const { message: text, error } = parsed as { message?: unknown; error?: { message?: unknown } };
      reason = typeof text === "string" ? text : typeof error?.message === "string" ? error.message : "";
    }
  } catch {
    // Not JSON: the text as it came, unless it still looks like JSON.
    if (/^[[{]/.test(inner.trim())) reason = "";
  }
  reason = reason.replace(/^(Error|proxy):\s*/i, "").trim();
  return reason === "[object Object]" ? "" : reason;
}

export function describeRelayFailure(error: unknown, m: RecordMessages): string {
  if (!(error instanceof RelayError)) return m.reasonOther(error instanceof Error ? error.message : String(error));
  if (error.code === "timeout") return m.reasonTimeout(error.timeoutMs === undefined ? undefined : error.timeoutMs / 1000);
  if (error.status === 0) return m.reasonUnreachable(proxyReason(error.message));
  if (error.status === 401) return m.reasonUnauthorized;
  if (error.status === 403) return m.reasonWrongApp;
  if (error.status === 429 || (error.status === 503 && error.code !== "relay_error")) return m.reasonBusy;
  if (error.status >= 500) return m.reasonRelayDown(error.status);
  // The relay's Japanese words, path by path, when every refused path has them (the catalogue picks them for ja only).
  const ja = error.details.length > 0 && error.details.every((d) => d.ja) ? error.details.map((d) => `${d.path}：${d.ja}`).join("、") : undefined;
  return m.reasonRefused(error.code, error.message, ja);
}
