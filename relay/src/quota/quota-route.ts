import { Hono } from "hono";
import type { Clock } from "../clock.js";
import type { LineQuota, QuotaClient } from "../line/quota-client.js";
import type { Logger } from "../logger.js";
import type { RelayStore } from "../store/relay-store.js";
import { pushMonthOf } from "./push-month.js";

/** LINE's figures are asked at most once a minute, whoever asks. */
const LINE_QUOTA_TTL_MS = 60_000;

/**
 * `GET /v1/quota`: this month's pushes as the relay counted them against RELAY_MONTHLY_PUSH_CAP,
 * and LINE's own figures. Any bearer (an app key too): the count is the LINE channel's, which all
 * apps share, as with GET /v1/groups; it names no app, record or recipient.
 * `{month, pushed, cap, lineLimited, line: {type, value, totalUsage} | null, lineError?}`:
 * `cap` null when there is none; `line` null (and `lineError` says why) when LINE could not be asked.
 */
export function quotaRoute(deps: { store: RelayStore; quota: QuotaClient; clock: Clock; logger: Logger; timeZone: string; monthlyPushCap?: number }) {
  let cached: { at: number; quota: LineQuota } | undefined;
  let asking: Promise<LineQuota> | undefined;

  const lineQuota = async (): Promise<LineQuota> => {
    const now = deps.clock.now();
    if (cached && now - cached.at < LINE_QUOTA_TTL_MS) return cached.quota;
    asking ??= deps.quota.getQuota().finally(() => {
      asking = undefined;
    });
    const quota = await asking;
    cached = { at: now, quota };
    return quota;
  };

  return new Hono().get("/", async (c) => {
    const month = pushMonthOf(deps.clock.now(), deps.timeZone);
    const usage = await deps.store.getPushUsage(month);
    let line: LineQuota | null = null;
    let lineError: string | undefined;
    try {
      line = await lineQuota();
    } catch (error) {
      lineError = (error as Error).message;
      deps.logger.warn("could not read LINE's message quota", { error });
    }
    return c.json({
      month,
      pushed: usage.pushed,
      cap: deps.monthlyPushCap ?? null,
      lineLimited: usage.lineLimitedAt !== null,
      line,
      ...(lineError !== undefined ? { lineError } : {}),
    });
  });
}
