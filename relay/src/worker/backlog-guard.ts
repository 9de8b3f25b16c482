import type { MiddlewareHandler } from "hono";
import { HttpError } from "../http/http-error.js";
import type { RelayStore } from "../store/relay-store.js";

export const DEFAULT_MAX_UNFINISHED_JOBS = 100_000;

/**
 * Refuses new work with 503 + Retry-After while `maxJobs` or more jobs are unfinished, so an
 * outage fills no disk: the caller (kintone's proxy, the plugin) tries again later. The count is
 * re-read at most once a second while far below the limit.
 */
export function refuseWhenBacklogged(options: { store: RelayStore; maxJobs: number; retryAfterSeconds?: number }): MiddlewareHandler {
  const retryAfter = String(options.retryAfterSeconds ?? 30);
  let checked: { at: number; count: number } | undefined;
  return async function backlogGuard(c, next) {
    if (c.req.method !== "POST") return next();
    const now = Date.now();
    // Far below the limit a second-old count is good enough; near it, count every time.
    if (!checked || now - checked.at >= 1000 || checked.count >= options.maxJobs * 0.9) {
      checked = { at: now, count: await options.store.countUnfinishedJobs() };
    }
    if (checked.count >= options.maxJobs) {
      throw new HttpError(
        503,
        "queue_full",
        `the relay has ${checked.count} jobs waiting (limit ${options.maxJobs}); try again later`,
        undefined,
        { "Retry-After": retryAfter },
      );
    }
    return next();
  };
}
