import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { appKeyRoute } from "./apps/app-key-route.js";
import { appNotificationsRoute } from "./apps/app-notifications-route.js";
import { appRulesRoute } from "./apps/app-rules-route.js";
import { pingRoute } from "./apps/ping-route.js";
import { testMessageRoute } from "./apps/test-message-route.js";
import type { Clock } from "./clock.js";
import { connectRoutes, type ConnectRouteDeps } from "./connect/connect-routes.js";
import { linksRoute } from "./connect/links-route.js";
import { appDeadLettersRoute } from "./dead-letters/app-dead-letters-route.js";
import { deadLettersRoute } from "./dead-letters/dead-letters-route.js";
import { limitBody } from "./http/body-limit.js";
import { jsonErrorHandler } from "./http/error-handler.js";
import { requireRelaySecret } from "./http/relay-secret-auth.js";
import { createFormFieldCache } from "./kintone/form-field-cache.js";
import type { KintoneClient } from "./kintone/kintone-client.js";
import type { GroupSummaryClient } from "./line/group-summary-client.js";
import type { LinkTokenClient } from "./line/link-token-client.js";
import type { ActAsUser } from "./links/act-as-user.js";
import type { ProfileClient } from "./line/profile-client.js";
import type { PushSender } from "./line/push-sender.js";
import type { ReplySender } from "./line/reply-sender.js";
import { runWithLogContext } from "./log-context.js";
import type { Logger } from "./logger.js";
import type { QuotaClient } from "./line/quota-client.js";
import { countWebhookEvents } from "./metrics/count-webhook-events.js";
import { NO_METRICS } from "./metrics/metrics-hooks.js";
import { metricsRoute } from "./metrics/metrics-route.js";
import type { RelayMetrics } from "./metrics/relay-metrics.js";
import { quotaRoute } from "./quota/quota-route.js";
import { notificationsRoute } from "./notifications/notifications-route.js";
import { createNotificationHandler } from "./notifications/process-notification.js";
import { recordDeliveriesRoute } from "./notifications/record-deliveries-route.js";
import { createDeliveryHandler } from "./notifications/send-delivery.js";
import type { PostbackTokens } from "./postback-token.js";
import type { RelaySettings } from "./settings.js";
import type { RelayStore } from "./store/relay-store.js";
import { groupsRoute, linkCodesRoute } from "./webhook/link-codes-route.js";
import { createWebhookEventHandler } from "./webhook/process-webhook-event.js";
import { webhookRoute } from "./webhook/webhook-route.js";
import { DEFAULT_MAX_UNFINISHED_JOBS, refuseWhenBacklogged } from "./worker/backlog-guard.js";
import { createIngestPressure } from "./worker/ingest-pressure.js";
import { createJobRunner, type JobRunner } from "./worker/job-runner.js";
import { kintoneWebhookRoute } from "./kintone-webhook/kintone-webhook-route.js";
import type { KintoneRecordQuery } from "./reminders/kintone-record-query.js";
import { createReminderScheduler, type ReminderScheduler } from "./reminders/reminder-scheduler.js";

export const RELAY_VERSION = "0.1.0";

export interface RelayDeps {
  settings: Pick<
    RelaySettings,
    "relaySecrets" | "lineChannelSecret" | "kintoneBaseUrl" | "timeZone" | "confirmTimeoutMs" | "replyDeadlineMs" | "welcomeText" | "language" | "giveUpAfterMs" | "monthlyPushCap" | "jobLeaseMs"
  >;
  store: RelayStore;
  kintone: KintoneClient;
  push: PushSender;
  replies: ReplySender;
  profiles: ProfileClient;
  /** Group names (LINE's group summary) for GET /v1/groups; absent: groups are listed by ID. */
  groupSummaries?: GroupSummaryClient;
  tokens: PostbackTokens;
  clock: Clock;
  logger: Logger;
  /** kintone's KINTONE_WEBHOOK_TOKEN (absent: no /kintone/webhook route). */
  kintoneWebhookToken?: string;
  /** Reads the records a reminder is about; absent: reminders never run. */
  records?: KintoneRecordQuery;
  /** How often the reminder scheduler reads the clock (default 30 s). */
  reminderIntervalMs?: number;
  /** maxUnfinishedJobs: above it, new work is refused with 503 + Retry-After (default 100,000). */
  worker?: { concurrency?: number; retryBaseMs?: number; maxUnfinishedJobs?: number };
  /** This relay's metrics (GET /metrics); absent: no /metrics route, nothing counted. */
  metrics?: RelayMetrics;
  /** LINE's message quota (GET /v1/quota); absent: no /v1/quota route. */
  quota?: QuotaClient;
  /**
   * Connecting kintone users to LINE users (the OAuth settings): the /connect pages, and the
   * `connect` command with LINE's link tokens. Absent: none of them.
   */
  connect?: Omit<ConnectRouteDeps, "links" | "clock" | "logger"> & { linkTokens: LinkTokenClient };
  /** Calls kintone as a linked user; present only with `connect` (the OAuth settings). */
  actAsUser?: ActAsUser;
}

export interface Relay {
  app: Hono;
  worker: JobRunner;
  /** Reminder rules: start() after the worker, stop() before closing the store. */
  reminders: ReminderScheduler;
}

/** Builds the relay from its dependencies. Never listens: relay/src/server.ts serves `app`. */
export function createRelay(deps: RelayDeps): Relay {
  const { store, clock, logger, settings } = deps;
  const formFields = createFormFieldCache(deps.kintone, clock);
  const retryBaseMs = deps.worker?.retryBaseMs;
  const hooks = deps.metrics?.hooks ?? NO_METRICS;

  // The webhook's requests come first: under a burst the jobs hold back (worker/ingest-pressure.ts).
  const ingest = createIngestPressure();
  const worker = createJobRunner({
    yieldTo: ingest,
    store,
    clock,
    logger,
    concurrency: deps.worker?.concurrency,
    retryBaseMs,
    giveUpAfterMs: settings.giveUpAfterMs,
    leaseMs: settings.jobLeaseMs,
    onJobRan: hooks.jobRan,
    handlers: {
      notification: createNotificationHandler({
        store,
        kintone: deps.kintone,
        formFields,
        tokens: deps.tokens,
        clock,
        logger,
        kintoneBaseUrl: settings.kintoneBaseUrl,
        timeZone: settings.timeZone,
        confirmTimeoutMs: settings.confirmTimeoutMs,
        retryBaseMs,
        language: settings.language,
        isBlocked: (userId) => store.isBlocked(userId),
      }),
      delivery: createDeliveryHandler({
        store,
        push: deps.push,
        clock,
        logger,
        retryBaseMs,
        monthlyPushCap: settings.monthlyPushCap,
        timeZone: settings.timeZone,
        metrics: hooks,
      }),
      "webhook-event": createWebhookEventHandler({
        store,
        kintone: deps.kintone,
        replies: deps.replies,
        profiles: deps.profiles,
        groupSummaries: deps.groupSummaries,
        tokens: deps.tokens,
        clock,
        logger,
        timeZone: settings.timeZone,
        replyDeadlineMs: settings.replyDeadlineMs,
        welcomeText: settings.welcomeText,
        language: settings.language,
        retryBaseMs,
        userLinking: deps.connect && { linkTokens: deps.connect.linkTokens, publicUrl: deps.connect.publicUrl },
        actAsUser: deps.actAsUser,
      }),
    },
  });

  const app = new Hono();
  app.onError(jsonErrorHandler(logger));
  app.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  // X-Request-Id (kept when it is short and plain: letters, digits, _ - =; else a new UUID) is
  // answered back and put on every log line of the request, and stored with the jobs it creates.
  app.use(requestId());
  app.use((c, next) => runWithLogContext({ reqId: c.get("requestId") }, next));

  app.get("/healthz", async (c) => {
    const writable = await store.checkWritable();
    return writable.ok ? c.json({ ok: true }) : c.json({ ok: false, error: { code: "store_unwritable", message: writable.message } }, 503);
  });
  const backlogGuard = refuseWhenBacklogged({ store, maxJobs: deps.worker?.maxUnfinishedJobs ?? DEFAULT_MAX_UNFINISHED_JOBS });
  app.use("/line/webhook", (_c, next) => {
    ingest.saw();
    return next();
  });
  app.use("/line/webhook", backlogGuard);
  app.route(
    "/line/webhook",
    webhookRoute({ channelSecret: settings.lineChannelSecret, store: deps.metrics ? countWebhookEvents(store, hooks) : store, clock, logger, onStored: () => worker.wake() }),
  );

  if (deps.kintoneWebhookToken) {
    app.route(
      "/kintone/webhook",
      kintoneWebhookRoute({ token: deps.kintoneWebhookToken, store, clock, logger, onEnqueued: () => worker.wake() }),
    );
  }
  const reminders = createReminderScheduler({
    store,
    records: deps.records ?? { findRecords: () => Promise.reject(new Error("no kintone record reader configured")) },
    formFields,
    clock,
    logger,
    onEnqueued: () => worker.wake(),
    intervalMs: deps.reminderIntervalMs,
  });

  // Opened by the user's phone browser, outside /v1: no bearer, every step a one-time secret.
  if (deps.connect) app.route("/connect", connectRoutes({ ...deps.connect, links: store.userLinks, clock, logger }));

  // Sets the principal (master secret, or one app's key); each route then checks the app it
  // touches with requireAppAccess (http/principal.ts).
  app.use("/v1/*", requireRelaySecret(settings.relaySecrets));
  // 64 KB for every /v1 body; a route may set a lower limit of its own.
  app.use("/v1/*", limitBody(64 * 1024));
  app.use("/v1/notifications", backlogGuard);
  app.route("/v1/dead-letters", deadLettersRoute({ store, clock, logger, onRetried: () => worker.wake() }));
  app.route("/v1/notifications", notificationsRoute({ store, clock, logger, onEnqueued: () => worker.wake() }));
  app.route("/v1/records", recordDeliveriesRoute({ store }));
  app.route("/v1/link-codes", linkCodesRoute({ store, clock, formFields }));
  app.route("/v1/links", linksRoute({ store, logger }));
  app.route("/v1/groups", groupsRoute({ store, clock, logger, groupSummaries: deps.groupSummaries }));
  if (deps.quota) {
    app.route("/v1/quota", quotaRoute({ store, quota: deps.quota, clock, logger, timeZone: settings.timeZone, monthlyPushCap: settings.monthlyPushCap }));
  }
  if (deps.metrics) {
    // The operator's: the master RELAY_SECRET (an app key gets 403 in the route).
    app.use("/metrics", requireRelaySecret(settings.relaySecrets));
    app.route("/metrics", metricsRoute({ metrics: deps.metrics }));
  }
  app.route("/v1/ping", pingRoute({ version: RELAY_VERSION }));
  app.route("/v1/apps", appRulesRoute({ store, clock, logger }));
  app.route("/v1/apps", appKeyRoute({ relaySecrets: settings.relaySecrets }));
  // The settings page's Deliveries tab: one app's notifications and dead letters, for its own key.
  app.route("/v1/apps", appNotificationsRoute({ store }));
  app.route("/v1/apps", appDeadLettersRoute({ store, clock, logger, onRetried: () => worker.wake() }));
  app.route("/v1/apps", testMessageRoute({ store, kintone: deps.kintone, formFields, push: deps.push, tokens: deps.tokens, logger, kintoneBaseUrl: settings.kintoneBaseUrl, language: settings.language }));

  return { app, worker, reminders };
}
