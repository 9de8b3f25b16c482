import type { JobKind } from "../store/relay-store.js";

/**
 * What the relay's parts report for /metrics, passed to them from the composition root (no global
 * registry: several relays may run in one process, as the tests do). NO_METRICS ignores it all.
 */
export interface MetricsHooks {
  /** One push or multicast request, by what came of it. */
  pushed(result: PushResult): void;
  /** One reply request, by what came of it. */
  replied(result: ReplyResult): void;
  /** One event of a webhook the relay committed. */
  webhookEvent(type: string): void;
  /** One run of a job, however it ended. */
  jobRan(kind: JobKind, seconds: number): void;
  /** One request to kintone's REST API: the HTTP status, or "network" when none came. */
  kintoneRequest(status: string): void;
}

/**
 * sent: LINE accepted it; duplicate: 409, an earlier attempt was accepted; retry: 429, 5xx,
 * timeout or token (tried again later); rejected: another 4xx; capped: not pushed because of
 * RELAY_MONTHLY_PUSH_CAP or LINE's own monthly limit.
 */
export type PushResult = "sent" | "duplicate" | "retry" | "rejected" | "capped";
export type ReplyResult = "sent" | "retry" | "rejected";

const ignore = () => {};
export const NO_METRICS: MetricsHooks = { pushed: ignore, replied: ignore, webhookEvent: ignore, jobRan: ignore, kintoneRequest: ignore };
