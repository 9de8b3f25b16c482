import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { JobKind, RelayStore } from "../store/relay-store.js";
import type { MetricsHooks } from "./metrics-hooks.js";

export interface RelayMetrics {
  /** This relay's own registry (never prom-client's global one). */
  registry: Registry;
  hooks: MetricsHooks;
  /** Where the job and dead-letter gauges are read at scrape time (the store opens after the clients that report here). */
  readGaugesFrom(store: GaugeSource): void;
}

type GaugeSource = Pick<RelayStore, "countJobsByState" | "countOpenDeadLetters">;

const JOB_KINDS: readonly JobKind[] = ["notification", "delivery", "webhook-event"];
const JOB_STATES = ["pending", "running"] as const;

/** LINE's webhook event types (developers.line.biz/en/reference/messaging-api/#webhook-event-objects); anything else is "other", so labels stay few. */
const WEBHOOK_EVENT_TYPES = new Set([
  "message", "unsend", "follow", "unfollow", "join", "leave", "memberJoined", "memberLeft", "postback",
  "videoPlayComplete", "beacon", "accountLink", "things", "membership", "module", "activated", "deactivated", "botSuspended", "botResumed",
]);

/**
 * The relay's Prometheus metrics: counters and the job histogram fed by the hooks, the job and
 * dead-letter gauges read from the store at scrape time (so every instance sharing a store shows
 * the same queue), and Node's default process metrics (each instance its own).
 */
export function createRelayMetrics(): RelayMetrics {
  const registry = new Registry();
  let store: GaugeSource | undefined;
  collectDefaultMetrics({ register: registry });

  const pushes = new Counter({
    name: "relay_pushes_total",
    help: "LINE push and multicast requests by result (sent, duplicate, retry, rejected, capped).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const replies = new Counter({
    name: "relay_replies_total",
    help: "LINE reply requests by result (sent, retry, rejected).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const webhookEvents = new Counter({
    name: "relay_webhook_events_total",
    help: "Events of signed LINE webhooks committed to the inbox, by event type.",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const kintoneRequests = new Counter({
    name: "relay_kintone_requests_total",
    help: "Requests to kintone's REST API by HTTP status (network: no answer).",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: "relay_job_duration_seconds",
    help: "How long one run of a job took, by kind.",
    labelNames: ["kind"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: "relay_jobs",
    help: "Unfinished jobs in the store by kind and state (all instances sharing it).",
    labelNames: ["kind", "state"] as const,
    registers: [registry],
    async collect() {
      const counts = (await store?.countJobsByState()) ?? [];
      for (const kind of JOB_KINDS) {
        for (const state of JOB_STATES) {
          this.set({ kind, state }, counts.find((row) => row.kind === kind && row.state === state)?.count ?? 0);
        }
      }
    },
  });
  new Gauge({
    name: "relay_dead_letters",
    help: "Dead letters not yet retried (GET /v1/dead-letters).",
    registers: [registry],
    async collect() {
      if (store) this.set(await store.countOpenDeadLetters());
    },
  });

  // Every result label present from the start, so rate() and alerts see 0 rather than no series.
  for (const result of ["sent", "duplicate", "retry", "rejected", "capped"]) pushes.inc({ result }, 0);
  for (const result of ["sent", "retry", "rejected"]) replies.inc({ result }, 0);

  return {
    registry,
    hooks: {
      pushed: (result) => pushes.inc({ result }),
      replied: (result) => replies.inc({ result }),
      webhookEvent: (type) => webhookEvents.inc({ type: WEBHOOK_EVENT_TYPES.has(type) ? type : "other" }),
      jobRan: (kind, seconds) => jobDuration.observe({ kind }, seconds),
      kintoneRequest: (status) => kintoneRequests.inc({ status }),
    },
    readGaugesFrom(source) {
      store = source;
    },
  };
}
