/**
 * What "Test connection" and the registration on Save tell the admin: what failed (the relay,
 * through kintone's proxy), where (the URL it tried), why (no connection, no answer in time, a
 * wrong key, another app's key, a rule the relay refuses) and what to do. Saving never depends on the relay, so a
 * failure says the settings can still be saved.
 */
import type { PingResult } from "../relay-client";
import { RelayError } from "../relay-client";
import type { SettingsMessages } from "./settings-messages";

/** The proxy's own words from a RelayError ("connection failed"), without the wrapping. */
export function unreachableReason(message: string): string {
  const inner = /\((.*)\)\s*$/s.exec(message)?.[1] ?? message;
  let reason = inner;
  try {
    const parsed = JSON.parse(inner) as unknown;
    if (typeof parsed === "string") reason = parsed;
    else if (parsed && typeof parsed === "object" && typeof (parsed as { message?: unknown }).message === "string") {
      reason = (parsed as { message: string }).message;
    }
  } catch {
    // Not JSON: the text as it came.
  }
  reason = reason.replace(/^proxy:\s*/i, "").trim();
  return reason === "" || reason === "[object Object]" ? "" : reason;
}

export function connectionFailureText(error: unknown, relayUrl: string, m: SettingsMessages, appId = ""): string {
  if (!(error instanceof RelayError)) return m.testFailedOther(relayUrl, error instanceof Error ? error.message : String(error));
  if (error.status === 401) return m.testUnauthorized;
  if (error.status === 403) return m.testWrongApp(appId);
  if (error.code === "timeout") return m.testTimeout(relayUrl, error.message);
  if (error.status === 0) return m.testUnreachable(relayUrl, unreachableReason(error.message));
  if (error.status === 502 || error.status === 503 || error.status === 504) return m.testBadGateway(relayUrl, error.status);
  if (error.status === 404) return m.testNotFound(relayUrl);
  return m.testFailedOther(relayUrl, `HTTP ${error.status}: ${error.message}`);
}

/** The relay answered: connected, and either the rules on screen are valid or where they are not. */
export function pingResultText(ping: PingResult, m: SettingsMessages): { ok: boolean; text: string } {
  if (ping.rules && !ping.rules.valid) {
    const details = (ping.rules.errors ?? []).map((e) => [e.path, e.message].filter(Boolean).join(": ")).join("; ");
    return { ok: false, text: `${m.testRulesInvalid} ${details}` };
  }
  return { ok: true, text: m.testOk(ping.version ?? "", ping.rules?.count ?? 0) };
}

/** After Save: whether the relay now has the rule set, and if not, when it will. */
export function registrationFailureText(error: unknown, relayUrl: string, m: SettingsMessages, appId = ""): string {
  if (error instanceof RelayError && error.status === 401) return m.registerUnauthorized;
  if (error instanceof RelayError && error.status === 403) return m.registerWrongApp(appId);
  const reason =
    error instanceof RelayError
      ? error.status === 0
        ? unreachableReason(error.message) || error.code
        : `HTTP ${error.status}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return m.registerFailed(relayUrl, reason);
}
