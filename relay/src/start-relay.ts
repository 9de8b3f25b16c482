import { serve } from "@hono/node-server";
import { RELAY_VERSION } from "./app.js";
import { systemClock } from "./clock.js";
import { AssertionKeyFileError, composeRelay, type ComposedRelay } from "./compose-relay.js";
import { readSettings } from "./settings.js";
import { StoreOpenError } from "./store/sqlite-store.js";

const DAY_MS = 24 * 60 * 60_000;

/**
 * Node's own limits on a slow client (https://nodejs.org/api/http.html#serverheaderstimeout,
 * #serverrequesttimeout): headers within 10 s, the whole request within 15 s, checked every
 * second (the default check runs every 30 s). The body reader cuts a stalled body sooner (408).
 */
export const RELAY_SERVER_OPTIONS = { headersTimeout: 10_000, requestTimeout: 15_000, connectionsCheckingInterval: 1_000 };

/** "db.internal:5432/relay": where RELAY_DATABASE_URL points, never its credentials. */
function databaseTarget(url: string): string {
  const normalized = url.replace(/^(postgres(?:ql)?:\/\/[^/@]*@)\//, "$1socket/"); // Cloud SQL's socket form
  const parsed = URL.canParse(normalized) ? new URL(normalized) : undefined;
  const host = parsed?.searchParams.get("host") ?? (parsed?.hostname ? `${parsed.hostname}:${parsed.port || "5432"}` : "socket");
  return `${host}/${parsed?.pathname.replace(/^\//, "") ?? ""}`;
}

/** Production start: settings from `env`, the real LINE and kintone clients, SQLite in RELAY_DATA_DIR or PostgreSQL at RELAY_DATABASE_URL. */
export async function startRelay(env: NodeJS.ProcessEnv): Promise<void> {
  const result = readSettings(env);
  if (!result.ok) {
    console.error(`The relay cannot start; fix these settings (environment or .env):`);
    for (const problem of result.problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  const settings = result.settings;

  let relay: ComposedRelay;
  try {
    relay = await composeRelay(settings);
  } catch (error) {
    // By name: the PostgreSQL store (and its driver) is loaded only when RELAY_DATABASE_URL is set.
    const known = error instanceof AssertionKeyFileError || error instanceof StoreOpenError || (error instanceof Error && error.name === "PostgresOpenError");
    if (!known) throw error;
    console.error((error as Error).message);
    process.exit(1);
  }
  const { app, store, logger } = relay;

  // Listening first: the first request (a health check, LINE's webhook) is answered while the
  // worker starts. What arrives meanwhile is stored as always and taken up once it runs.
  const server = serve({ fetch: app.fetch, port: settings.port, serverOptions: RELAY_SERVER_OPTIONS }, (info) => {
    // Always printed, whatever LOG_LEVEL says: the operator needs to know where the relay is.
    console.log(
      `relay ${RELAY_VERSION} listening on http://localhost:${info.port} ` +
        `(${settings.databaseUrl ? `PostgreSQL ${databaseTarget(settings.databaseUrl)}` : `data ${settings.dataDir}`}, LINE API ${settings.lineApiBaseUrl}, kintone ${settings.kintoneBaseUrl}, ${settings.lineAccessToken.kind} channel token)`,
    );
  });
  await relay.start();
  // Housekeeping: every table forgets what finished RELAY_RETENTION_DAYS ago, in small batches.
  const prune = () =>
    store
      .pruneFinished(systemClock.now() - (settings.retentionDays ?? 30) * DAY_MS)
      .then((removed) => removed > 0 && logger.info("pruned finished rows", { removed }))
      .catch((error: unknown) => logger.error("pruning failed", { error }));
  setInterval(() => void prune(), 60 * 60_000).unref();
  void prune();

  const shutdown = (signal: string) => {
    logger.info("shutting down", { signal });
    server.close();
    void relay.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}
