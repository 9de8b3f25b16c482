import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS, demoRuleSet } from "../../emulators/demo-app.js";
import { createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen } from "../../emulators/listen.js";
import { createRelay } from "../../relay/src/app.js";
import type { Clock } from "../../relay/src/clock.js";
import { createKintoneRestClient } from "../../relay/src/kintone/kintone-rest-client.js";
import { createChannelAccessTokenSource } from "../../relay/src/line/channel-access-token.js";
import { createProfileClient } from "../../relay/src/line/profile-client.js";
import { createPushSender } from "../../relay/src/line/push-sender.js";
import { createReplySender } from "../../relay/src/line/reply-sender.js";
import { createMemoryLogger } from "../../relay/src/logger.js";
import { createPostbackTokens } from "../../relay/src/postback-token.js";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";

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
    process: DEMO_PROCESS,
    apiTokens: [{ token: DEMO_API_TOKEN, permissions: { view: true, edit: true, add: true } }],
  });
  const lineServer = await listen(line.app);
  const kintoneServer = await listen(kintone.app);

  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "relay-test-"));
  const store = openSqliteStore(dataDir);
  const logger = createMemoryLogger();
  const accessTokens = createChannelAccessTokenSource(
    options.tokenKind === "stateless"
      ? { kind: "stateless", channelId: TEST_CHANNEL_ID, channelSecret: TEST_CHANNEL_SECRET }
      : { kind: "long-lived", token: TEST_LONG_LIVED_TOKEN },
    { apiBaseUrl: lineServer.url, now: clock.now },
  );
  const relay = createRelay({
    settings: {
      relaySecret: TEST_RELAY_SECRET,
      kintoneBaseUrl: kintoneServer.url,
      timeZone: "Asia/Tokyo",
      confirmTimeoutMs: options.confirmTimeoutMs ?? 5_000,
      lineChannelSecret: TEST_CHANNEL_SECRET,
      replyDeadlineMs: options.replyDeadlineMs ?? 50_000,
      welcomeText: "Welcome!",
    },
    store,
    kintone: createKintoneRestClient({ baseUrl: kintoneServer.url, apiTokens: [DEMO_API_TOKEN] }),
    push: createPushSender({ apiBaseUrl: lineServer.url, tokens: accessTokens, timeoutMs: 2_000 }),
    replies: createReplySender({ apiBaseUrl: lineServer.url, tokens: accessTokens, timeoutMs: 2_000 }),
    profiles: createProfileClient({ apiBaseUrl: lineServer.url, tokens: accessTokens, timeoutMs: 2_000 }),
    tokens: createPostbackTokens([TEST_SIGNING_KEY]),
    clock,
    logger,
    worker: { retryBaseMs: options.retryBaseMs ?? 50 },
  });
  await relay.worker.start();
  const relayServer = await listen(relay.app);

  return {
    relayUrl: relayServer.url,
    relaySecret: TEST_RELAY_SECRET,
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
    notify(body: Record<string, unknown>, secret = TEST_RELAY_SECRET) {
      return fetch(`${relayServer.url}/v1/notifications`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        body: JSON.stringify(body),
      });
    },
    async close() {
      await relay.worker.stop();
      await relayServer.close();
      await lineServer.close();
      await kintoneServer.close();
      await store.close();
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
