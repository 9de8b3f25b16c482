import { Hono } from "hono";
import { requireMaster } from "../http/principal.js";
import type { RelayMetrics } from "./relay-metrics.js";

/**
 * `GET /metrics`: the Prometheus text format. The master RELAY_SECRET only (401 without a bearer,
 * 403 for an app key): the counts are the whole channel's, not one app's.
 */
export function metricsRoute(deps: { metrics: RelayMetrics }) {
  return new Hono().get("/", async (c) => {
    requireMaster(c);
    const text = await deps.metrics.registry.metrics();
    return c.body(text, 200, { "content-type": deps.metrics.registry.contentType });
  });
}
