import { readFileSync } from "node:fs";
import { createRelay, type Relay, type RelayDeps } from "./app.js";
import { systemClock, type Clock } from "./clock.js";
import { CALLBACK_PATH, RELAY_OAUTH_SCOPES, createKintoneOAuthClient } from "./kintone/kintone-oauth-client.js";
import { createKintoneRestClient } from "./kintone/kintone-rest-client.js";
import { createChannelAccessTokenSource, type ChannelAccessTokenConfig } from "./line/channel-access-token.js";
import { createGroupSummaryClient } from "./line/group-summary-client.js";
import { createLinkTokenClient } from "./line/link-token-client.js";
import { createLineConnections } from "./line/line-http.js";
import { createProfileClient } from "./line/profile-client.js";
import { createPushSender } from "./line/push-sender.js";
import { createQuotaClient } from "./line/quota-client.js";
import { createReplySender } from "./line/reply-sender.js";
import { countPushes } from "./metrics/count-pushes.js";
import { countReplies } from "./metrics/count-replies.js";
import { createRelayMetrics, type RelayMetrics } from "./metrics/relay-metrics.js";
import { createLogger, type Logger } from "./logger.js";
import { createActAsUser, type ActAsUser } from "./links/act-as-user.js";
import { createTokenBox, decodeTokenKey } from "./links/token-box.js";
import { createPostbackTokens, deriveSigningKey } from "./postback-token.js";
import type { RelaySettings } from "./settings.js";
import type { RelayStore } from "./store/relay-store.js";
import { openSqliteStore } from "./store/sqlite-store.js";
import { createKintoneRecordQuery } from "./reminders/kintone-record-query.js";

/** What production leaves to the settings and a test or the sandbox may set instead. */
export interface RelayOverrides {
  clock?: Clock;
  /** Default: JSON lines on stdout at `settings.logLevel`, with every secret of `settings` redacted. */
  logger?: Logger;
  /** Default `settings.dataDir`. */
  dataDir?: string;
  /** Default `settings.databaseUrl`. */
  databaseUrl?: string;
  worker?: { concurrency?: number; retryBaseMs?: number; maxUnfinishedJobs?: number };
  /** How often reminders look at the clock (default 30 s); tests that move the clock use less. */
  reminderIntervalMs?: number;
  /** Per request to LINE (push, reply, profile, token); default 10 s. */
  lineTimeoutMs?: number;
  /**
   * Where the relay calls kintone's REST API, when that is not `settings.kintoneBaseUrl` (which
   * record links in messages open): the sandbox's links open its record page, its REST API is
   * the kintone emulator.
   */
  kintoneApiBaseUrl?: string;
}

export interface ComposedRelay extends Relay {
  /** SQLite in the data dir, or PostgreSQL when a database URL is set. */
  store: RelayStore;
  logger: Logger;
  /** This relay's Prometheus registry and hooks (GET /metrics). */
  metrics: RelayMetrics;
  /** Acting as linked kintone users; present only with the OAuth settings. */
  actAsUser?: ActAsUser;
  /**
   * Starts the work that runs by itself: the job worker, then the reminder scheduler. Production,
   * the sandbox and the tests all start the relay here, so a new background task starts everywhere.
   */
  start(): Promise<void>;
  /** Stops the worker, closes the store and the LINE connections, releases the channel access token (revokes a v2.1 one). */
  close(): Promise<void>;
}

/** A v2.1 assertion key that cannot be read: start-up stops and names the setting. */
export class AssertionKeyFileError extends Error {
  override readonly name = "AssertionKeyFileError";
}

// LINE allows 30 live v2.1 tokens per channel and every start issues one: a day's lifetime
// (renewed before expiry) keeps restarts from using them up.
const V21_TOKEN_EXP_SECONDS = 24 * 60 * 60;

function accessTokenConfig(settings: RelaySettings): ChannelAccessTokenConfig {
  const config = settings.lineAccessToken;
  if (config.kind !== "v2.1") return config;
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(config.keyFile, "utf8");
  } catch (error) {
    throw new AssertionKeyFileError(`LINE_ASSERTION_KEY_FILE: cannot read "${config.keyFile}": ${(error as Error).message}`, { cause: error });
  }
  return {
    kind: "v2.1",
    channelId: config.channelId,
    privateKeyPem,
    kid: config.kid,
    tokenExpSeconds: V21_TOKEN_EXP_SECONDS,
    channelSecret: settings.lineChannelSecret,
  };
}

/**
 * The one place the relay is wired: store, kintone REST client, channel access token, push and
 * reply senders, profile client, postback tokens, logger and clock, all from `settings`, for
 * production (start-relay.ts), the sandbox and the tests alike. A new dependency is added here.
 * Neither listens nor starts the background work: the caller serves `app` and calls `start()`.
 */
export async function composeRelay(settings: RelaySettings, overrides: RelayOverrides = {}): Promise<ComposedRelay> {
  const clock = overrides.clock ?? systemClock;
  const tokenConfig = accessTokenConfig(settings);
  const logger =
    overrides.logger ??
    createLogger({
      level: settings.logLevel,
      secrets: [
        ...settings.relaySecrets,
        settings.lineChannelSecret,
        ...settings.kintoneApiTokens,
        ...settings.signingKeys,
        ...(tokenConfig.kind === "long-lived" ? [tokenConfig.token] : []),
        ...(settings.userLinking ? [settings.userLinking.clientSecret, settings.userLinking.tokenKey] : []),
      ],
    });

  const timeoutMs = overrides.lineTimeoutMs;
  // One registry per relay: several relays in one process (the tests) count apart.
  const metrics = createRelayMetrics();
  const kintone = createKintoneRestClient({
    baseUrl: overrides.kintoneApiBaseUrl ?? settings.kintoneBaseUrl,
    apiTokens: settings.kintoneApiTokens,
    onRequest: metrics.hooks.kintoneRequest,
  });
  const signingKeys = settings.signingKeys.length > 0 ? settings.signingKeys : [deriveSigningKey(settings.lineChannelSecret)];
  // Last: everything above can refuse its options without leaving a database open.
  const store = await openStore(overrides.databaseUrl ?? settings.databaseUrl, overrides.dataDir ?? settings.dataDir, logger);
  metrics.readGaugesFrom(store);
  // After the store: instances sharing one (PostgreSQL) share the channel access token through it.
  const accessTokens = createChannelAccessTokenSource(tokenConfig, { apiBaseUrl: settings.lineApiBaseUrl, now: clock.now, timeoutMs, shared: store });
  // Keep-alive connections for pushes and replies, closed by close().
  const lineConnections = createLineConnections({ timeoutMs });
  const line = { apiBaseUrl: settings.lineApiBaseUrl, tokens: accessTokens, timeoutMs, connections: lineConnections };

  const userLinking = composeUserLinking(settings, store, line, { kintoneApiBaseUrl: overrides.kintoneApiBaseUrl ?? settings.kintoneBaseUrl, clock, logger, metrics });

  const relay = createRelay({
    settings,
    store,
    kintone,
    push: countPushes(createPushSender(line), metrics.hooks),
    replies: countReplies(createReplySender(line), metrics.hooks),
    profiles: createProfileClient(line),
    groupSummaries: createGroupSummaryClient(line),
    tokens: createPostbackTokens(signingKeys),
    clock,
    logger,
    worker: overrides.worker,
    kintoneWebhookToken: settings.kintoneWebhookToken,
    records: createKintoneRecordQuery({ baseUrl: overrides.kintoneApiBaseUrl ?? settings.kintoneBaseUrl, apiTokens: settings.kintoneApiTokens }),
    reminderIntervalMs: overrides.reminderIntervalMs,
    metrics,
    quota: createQuotaClient(line),
    ...userLinking,
  });

  let closing: Promise<void> | undefined;
  return {
    ...relay,
    store,
    logger,
    metrics,
    ...(userLinking.actAsUser ? { actAsUser: userLinking.actAsUser } : {}),
    async start() {
      await relay.worker.start();
      relay.reminders.start();
    },
    close() {
      closing ??= (async () => {
        await relay.reminders.stop();
        await relay.worker.stop();
        await Promise.all([store.close(), accessTokens.release(), lineConnections.close()]);
      })();
      return closing;
    },
  };
}

/**
 * Connecting kintone users and acting as them, when the OAuth settings are set: kintone's OAuth
 * client (on the REST API's host, where /oauth2 lives), the sealed-token box, LINE's link tokens.
 */
function composeUserLinking(
  settings: RelaySettings,
  store: RelayStore,
  line: Parameters<typeof createLinkTokenClient>[0],
  context: { kintoneApiBaseUrl: string; clock: Clock; logger: Logger; metrics: RelayMetrics },
): Pick<RelayDeps, "connect" | "actAsUser"> {
  const linking = settings.userLinking;
  if (!linking) return {};
  const key = decodeTokenKey(linking.tokenKey);
  if (!key) throw new Error("RELAY_TOKEN_KEY: not 32 bytes (settings.ts checks this first)");
  const tokenBox = createTokenBox(key);
  const oauth = createKintoneOAuthClient({
    baseUrl: context.kintoneApiBaseUrl,
    clientId: linking.clientId,
    clientSecret: linking.clientSecret,
    redirectUri: linking.publicUrl + CALLBACK_PATH,
    scopes: RELAY_OAUTH_SCOPES,
  });
  return {
    connect: {
      oauth,
      tokenBox,
      publicUrl: linking.publicUrl,
      lineAccessBaseUrl: linking.lineAccessBaseUrl,
      kintoneApiBaseUrl: context.kintoneApiBaseUrl,
      linkAppId: linking.linkAppId,
      linkTokens: createLinkTokenClient(line),
    },
    actAsUser: createActAsUser({
      links: store.userLinks,
      oauth,
      tokenBox,
      baseUrl: context.kintoneApiBaseUrl,
      clock: context.clock,
      logger: context.logger,
      onRequest: context.metrics.hooks.kintoneRequest,
    }),
  };
}

/**
 * PostgreSQL when RELAY_DATABASE_URL is set (several instances share it), else SQLite in the data
 * dir. The PostgreSQL driver is loaded only then, so the embedded default starts as fast as before.
 */
async function openStore(databaseUrl: string | undefined, dataDir: string, logger: Logger): Promise<RelayStore> {
  if (!databaseUrl) return openSqliteStore(dataDir);
  const { openPostgresStore } = await import("./store/postgres/pg-store.js");
  return openPostgresStore(databaseUrl, { logger });
}
