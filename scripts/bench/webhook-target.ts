import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { composeRelay } from "../../relay/src/compose-relay.js";
import { readSettings } from "../../relay/src/settings.js";
import { isValidLineSignature } from "../../relay/src/webhook/verify-signature.js";

/**
 * The two comparison targets of the webhook benchmark, each in its own process like the relay:
 *   verify-only   a Hono handler that verifies the signature and answers 200: the ceiling
 *   ingest-only   the relay composed from the same settings (composeRelay), workers NOT started:
 *                 signature, envelope, durable inbox commit, 200, and nothing processed
 * (The production relay itself is dist/relay/server.mjs, started by the benchmark as is.)
 * Settings come from the environment, as the relay's; listens on 127.0.0.1:PORT.
 */
const mode = process.argv[2];
const settings = readSettings(process.env);
if (!settings.ok) throw new Error(settings.problems.join("\n"));

let app: Hono;
if (mode === "verify-only") {
  const secret = settings.settings.lineChannelSecret;
  app = new Hono().post("/line/webhook", async (c) => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!isValidLineSignature(secret, raw, c.req.header("x-line-signature"))) return c.json({}, 401);
    return c.json({});
  });
} else if (mode === "ingest-only") {
  app = (await composeRelay(settings.settings)).app; // worker.start() is never called
} else throw new Error(`unknown mode ${mode}`);

serve({ fetch: app.fetch, port: settings.settings.port, hostname: "127.0.0.1" }, (info) => console.log(`listening on http://localhost:${info.port}`));
process.on("SIGTERM", () => process.exit(0));
