import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { composeRelay } from "../../relay/src/compose-relay.js";
import { createLogger } from "../../relay/src/logger.js";
import { isValidLineSignature } from "../../relay/src/webhook/verify-signature.js";

/**
 * One benchmark target in its own process (so the load generator does not share its event loop):
 *   relay <dataDir>  the relay's real app: signature, envelope, durable inbox commit, 200
 *                    (BENCH_INBOX=main-thread: without the inbox writer thread, for comparison)
 *   bare             a Hono handler that only verifies the signature and answers 200
 * Prints "port <n>" when listening.
 */
const [mode, dataDir] = process.argv.slice(2);
const secret = process.env.BENCH_CHANNEL_SECRET ?? "";

let app: Hono;
if (mode === "bare") {
  app = new Hono().post("/line/webhook", async (c) => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (!isValidLineSignature(secret, raw, c.req.header("x-line-signature"))) return c.json({}, 401);
    return c.json({});
  });
} else {
  // The relay as production composes it; only the webhook endpoint is measured, so LINE and
  // kintone are never called (the worker is not started) and their addresses lead nowhere.
  const relay = await composeRelay(
    {
      port: 0,
      relaySecrets: ["bench-relay-secret-0123456789"],
      lineChannelSecret: secret,
      lineAccessToken: { kind: "long-lived", token: "bench-unused-token" },
      lineApiBaseUrl: "http://localhost:1",
      kintoneBaseUrl: "http://localhost:1",
      kintoneApiTokens: ["benchUnusedToken"],
      dataDir: dataDir ?? "./bench-data",
      timeZone: "Asia/Tokyo",
      signingKeys: ["bench-signing-key-0123456789abcdef0123"],
      confirmTimeoutMs: 30_000,
      replyDeadlineMs: 50_000,
      welcomeText: "",
      logLevel: "error",
    },
    { logger: createLogger({ level: "error" }) },
  );
  // BENCH_INBOX=main-thread: stop the inbox writer thread, so the store commits on the event
  // loop's connection as it did before the writer existed (for comparisons).
  if (process.env.BENCH_INBOX === "main-thread") await relay.store.inbox?.close();
  app = relay.app; // the worker is not started: only the endpoint is measured
}

serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log(`port ${info.port}`));
process.on("SIGINT", () => process.exit(0));
