import { serve } from "@hono/node-server";
import { readFileSync } from "node:fs";
import { createRelay, RELAY_VERSION } from "./app.js";
import { systemClock } from "./clock.js";
import { createKintoneRestClient } from "./kintone/kintone-rest-client.js";
import { createChannelAccessTokenSource } from "./line/channel-access-token.js";
import { createProfileClient } from "./line/profile-client.js";
import { createPushSender } from "./line/push-sender.js";
import { createReplySender } from "./line/reply-sender.js";
import { createLogger } from "./logger.js";
import { createPostbackTokens, deriveSigningKey } from "./postback-token.js";
import { openSqliteStore, StoreOpenError } from "./store/sqlite-store.js";
import { readSettings } from "./settings.js";

/** Production start: settings from `env`, the real LINE and kintone clients, SQLite in RELAY_DATA_DIR. */
export async function startRelay(env: NodeJS.ProcessEnv): Promise<void> {
  const result = readSettings(env);
  if (!result.ok) {
    console.error(`The relay cannot start; fix these settings (environment or .env):`);
    for (const problem of result.problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  const settings = result.settings;

  const logger = createLogger({ level: settings.logLevel, secrets: [settings.relaySecret, settings.lineChannelSecret, ...settings.kintoneApiTokens, ...settings.signingKeys] });

  let privateKeyPem = "";
  if (settings.lineAccessToken.kind === "v2.1") {
    try {
      privateKeyPem = readFileSync(settings.lineAccessToken.keyFile, "utf8");
    } catch (error) {
      console.error(`LINE_ASSERTION_KEY_FILE: cannot read "${settings.lineAccessToken.keyFile}": ${(error as Error).message}`);
      process.exit(1);
    }
  }
  const tokenConfig =
    settings.lineAccessToken.kind === "v2.1"
      ? {
          kind: "v2.1" as const,
          channelId: settings.lineAccessToken.channelId,
          privateKeyPem,
          kid: settings.lineAccessToken.kid,
          // LINE allows 30 live v2.1 tokens per channel and every start issues one: a day's
          // lifetime (renewed before expiry) keeps restarts from using them up.
          tokenExpSeconds: 24 * 60 * 60,
        channelSecret: settings.lineChannelSecret,
        }
      : settings.lineAccessToken;
  if (tokenConfig.kind === "long-lived") logger.addSecret(tokenConfig.token);

  let store: ReturnType<typeof openSqliteStore>;
  try {
    store = openSqliteStore(settings.dataDir);
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const accessTokens = createChannelAccessTokenSource(tokenConfig, { apiBaseUrl: settings.lineApiBaseUrl, now: systemClock.now });
  const line = { apiBaseUrl: settings.lineApiBaseUrl, tokens: accessTokens };
  const { app, worker } = createRelay({
    settings,
    store,
    kintone: createKintoneRestClient({ baseUrl: settings.kintoneBaseUrl, apiTokens: settings.kintoneApiTokens }),
    push: createPushSender(line),
    replies: createReplySender(line),
    profiles: createProfileClient(line),
    tokens: createPostbackTokens(settings.signingKeys.length > 0 ? settings.signingKeys : [deriveSigningKey(settings.lineChannelSecret)]),
    clock: systemClock,
    logger,
  });

  await worker.start();
  // Housekeeping: finished jobs, processed webhook events and spent link codes go after a week
  // (far past LINE's redelivery), so the database stays small.
  const prune = () =>
    store
      .pruneFinished(systemClock.now() - 7 * 24 * 60 * 60_000)
      .then((removed) => removed > 0 && logger.info("pruned finished rows", { removed }))
      .catch((error: unknown) => logger.error("pruning failed", { error }));
  setInterval(() => void prune(), 60 * 60_000).unref();
  void prune();
  const server = serve({ fetch: app.fetch, port: settings.port }, (info) => {
    // Always printed, whatever LOG_LEVEL says: the operator needs to know where the relay is.
    console.log(
      `relay ${RELAY_VERSION} listening on http://localhost:${info.port} ` +
        `(data ${settings.dataDir}, LINE API ${settings.lineApiBaseUrl}, kintone ${settings.kintoneBaseUrl}, ${settings.lineAccessToken.kind} channel token)`,
    );
  });

  const shutdown = (signal: string) => {
    logger.info("shutting down", { signal });
    server.close();
    void worker
      .stop()
      .then(() => Promise.all([store.close(), accessTokens.release()]))
      .then(() => process.exit(0));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}
