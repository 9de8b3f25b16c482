import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS, demoRuleSet } from "../../emulators/demo-app.js";
import { type ProcessDefinition, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen } from "../../emulators/listen.js";
import type { Clock } from "../../relay/src/clock.js";
import { composeRelay } from "../../relay/src/compose-relay.js";
import { SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { createMemoryLogger } from "../../relay/src/logger.js";

export const TEST_RELAY_SECRET = "test-relay-secret-0123456789abcdef";
export const TEST_CHANNEL_ID = "1234567890";
export const TEST_CHANNEL_SECRET = "0123456789abcdef0123456789abcdef";
export const TEST_LONG_LIVED_TOKEN = "long-lived-test-token-abcdefghijklmnopqrstuvwxyz";
export const TEST_SIGNING_KEY = "test-signing-key-0123456789abcdef0123456789";

export interface StackOptions {
  tokenKind?: "long-lived" | "stateless";
  confirmTimeoutMs?: number;
  retryBaseMs?: number;
  replyDeadlineMs?: number;
  dataDir?: string;
  clock?: Clock;
  /** RELAY_SECRET's list (current first); default [TEST_RELAY_SECRET]. */
  relaySecrets?: string[];
  /** RELAY_GIVE_UP_AFTER_MS (default 24 h); maxUnfinishedJobs: the queue bound (default 100,000). */
  giveUpAfterMs?: number;
  maxUnfinishedJobs?: number;
  /** The demo app's process management (default DEMO_PROCESS). */
  process?: ProcessDefinition;
  /** KINTONE_WEBHOOK_TOKEN (default none: no /kintone/webhook route). */
  kintoneWebhookToken?: string;
  /** How often reminders read the clock (default 30 s). */
  reminderIntervalMs?: number;
  /** RELAY_MONTHLY_PUSH_CAP (default none). */
  monthlyPushCap?: number;
}

/** Relay + LINE emulator + kintone emulator (demo app), all on 127.0.0.1, relay in-process. */
export async function startStack(options: StackOptions = {}) {
  const clock = options.clock ?? { now: () => Date.now() };
  const line = createLineEmulator({
    now: clock.now,
    channels: [{ channelId: TEST_CHANNEL_ID, channelSecret: TEST_CHANNEL_SECRET }],
    longLivedTokens: [TEST_LONG_LIVED_TOKEN],
  });
  const kintone = createKintoneEmulator({ now: clock.now });
  kintone.addApp({
    id: DEMO_APP_ID,
    name: "Orders",
    fields: DEMO_FIELDS,
    process: options.process ?? DEMO_PROCESS,
    apiTokens: [{ token: DEMO_API_TOKEN, permissions: { view: true, edit: true, add: true } }],
  });
  const lineServer = await listen(line.app);
  const kintoneServer = await listen(kintone.app);

  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "relay-test-"));
  const logger = createMemoryLogger();
  const relaySecrets = options.relaySecrets ?? [TEST_RELAY_SECRET];
  const relay = await composeRelay(
    {
      port: 0,
      relaySecrets,
      lineChannelSecret: TEST_CHANNEL_SECRET,
      lineAccessToken:
        options.tokenKind === "stateless"
          ? { kind: "stateless", channelId: TEST_CHANNEL_ID, channelSecret: TEST_CHANNEL_SECRET }
          : { kind: "long-lived", token: TEST_LONG_LIVED_TOKEN },
      lineApiBaseUrl: lineServer.url,
      kintoneBaseUrl: kintoneServer.url,
      kintoneApiTokens: [DEMO_API_TOKEN],
      dataDir,
      timeZone: "Asia/Tokyo",
      signingKeys: [TEST_SIGNING_KEY],
      confirmTimeoutMs: options.confirmTimeoutMs ?? 5_000,
      replyDeadlineMs: options.replyDeadlineMs ?? 50_000,
      welcomeText: "Welcome!",
      logLevel: "debug",
      kintoneWebhookToken: options.kintoneWebhookToken,
      giveUpAfterMs: options.giveUpAfterMs,
      monthlyPushCap: options.monthlyPushCap,
    },
    { clock, logger, reminderIntervalMs: options.reminderIntervalMs, lineTimeoutMs: 2_000, worker: { retryBaseMs: options.retryBaseMs ?? 50, maxUnfinishedJobs: options.maxUnfinishedJobs } },
  );
  // These tests read the SQLite tables behind the store; the PostgreSQL store has its own suites.
  const store = relay.store;
  if (!(store instanceof SqliteStore)) throw new Error("the test stack runs on the SQLite store");
  await relay.start();
  const relayServer = await listen(relay.app);

  return {
    relayUrl: relayServer.url,
    /** The current secret (the first of `relaySecrets`). */
    relaySecret: relaySecrets[0] as string,
    line,
    kintone,
    lineUrl: lineServer.url,
    kintoneUrl: kintoneServer.url,
    demoAppId: DEMO_APP_ID,
    store,
    relay,
    logger,
    dataDir,
    /** POST /v1/notifications as kintone's proxy would send it (secret and rules injected). */
    notify(body: Record<string, unknown>, secret = relaySecrets[0] as string) {
      return fetch(`${relayServer.url}/v1/notifications`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        body: JSON.stringify(body),
      });
    },
    async close() {
      await relay.worker.stop();
      await relayServer.close();
      await relay.close(); // the store, the channel token
      await lineServer.close();
      await kintoneServer.close();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** The body kintone's proxy sends when staff run "Approve" on a demo order (rules injected). */
export function approvalRequest(recordId: number | string, rules: unknown = demoRuleSet()) {
  return {
    appId: DEMO_APP_ID,
    recordId: String(recordId),
    action: "Approve",
    status: "Submitted",
    nextStatus: "Approved",
    rules: JSON.stringify(rules),
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
