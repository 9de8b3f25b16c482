import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS } from "../../emulators/demo-app.js";
import { createKintoneEmulator, type ProcessDefinition } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";
import { composeRelay } from "../../relay/src/compose-relay.js";
import { createMemoryLogger } from "../../relay/src/logger.js";
import type { UserLink } from "../../relay/src/links/user-links.js";
import { SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { postWebhook, textEvent, webhookBody } from "./line-webhook.js";
import { TEST_CHANNEL_ID, TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_RELAY_SECRET, TEST_SIGNING_KEY, waitFor } from "./start-stack.js";

/**
 * The relay with the OAuth settings (RELAY_PUBLIC_URL its own address), the LINE emulator (API,
 * access.line.me's account-link page, webhooks sent to the relay) and the kintone emulator (OAuth
 * client registered, users, the demo app and the link app), all on 127.0.0.1. The relay's clock
 * can be moved ahead (`advance`) while the emulators keep real time: the relay's 10-minute steps
 * lapse while LINE's link token and kintone's code are still good.
 */
export const LINK_APP_ID = 90;
export const OAUTH_CLIENT_ID = "relay-test-client";
export const OAUTH_CLIENT_SECRET = "relay-test-client-secret-0123456789";
/** RELAY_TOKEN_KEY of the stack: 32 bytes, hex. */
export const TEST_TOKEN_KEY = "7f".repeat(32);

export const ALICE = { code: "alice", name: "Alice Sato" };
export const BOB = { code: "bob", name: "Bob Suzuki" };

export interface LinkingStackOptions {
  /** kintone users besides Alice and Bob (add users an app's process names). */
  users?: Array<{ code: string; name: string }>;
  /** The demo app's process management (default DEMO_PROCESS). */
  process?: ProcessDefinition;
  /** `allowedUsers` of the OAuth client (default: everyone). */
  allowedUsers?: string[];
}

export async function startLinkingStack(options: LinkingStackOptions = {}) {
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };
  const line = createLineEmulator({
    channels: [{ channelId: TEST_CHANNEL_ID, channelSecret: TEST_CHANNEL_SECRET }],
    longLivedTokens: [TEST_LONG_LIVED_TOKEN],
  });
  const kintone = createKintoneEmulator();
  for (const user of [ALICE, BOB, ...(options.users ?? [])]) kintone.addUser(user);
  kintone.addApp({
    id: DEMO_APP_ID,
    name: "Orders",
    fields: DEMO_FIELDS,
    process: options.process ?? DEMO_PROCESS,
    apiTokens: [{ token: DEMO_API_TOKEN, permissions: { view: true, edit: true, add: true } }],
  });
  kintone.addApp({
    id: LINK_APP_ID,
    name: "LINE connections",
    fields: {
      line_user_id: { type: "SINGLE_LINE_TEXT", code: "line_user_id", label: "LINE user ID" },
      connected_at: { type: "DATETIME", code: "connected_at", label: "Connected at" },
    },
    apiTokens: [],
  });

  // The relay's address is its RELAY_PUBLIC_URL (and kintone's redirect URI): listen first, serve the relay once composed.
  const serving: { app?: Hono } = {};
  const front = new Hono().all("*", (c) => (serving.app ? serving.app.fetch(c.req.raw) : c.text("starting", 503)));
  const servers: RunningServer[] = [];
  const relayServer = await listen(front);
  const lineServer = await listen(line.app);
  const accessServer = await listen(line.accessApp);
  const kintoneServer = await listen(kintone.app);
  servers.push(relayServer, lineServer, accessServer, kintoneServer);

  kintone.registerOAuthClient({
    clientId: OAUTH_CLIENT_ID,
    clientSecret: OAUTH_CLIENT_SECRET,
    redirectUri: `${relayServer.url}/connect/kintone/callback`,
    ...(options.allowedUsers ? { allowedUsers: options.allowedUsers } : {}),
  });
  line.setWebhook({ url: `${relayServer.url}/line/webhook`, channelSecret: TEST_CHANNEL_SECRET });

  const dataDir = mkdtempSync(join(tmpdir(), "relay-links-"));
  const logger = createMemoryLogger();
  const relay = await composeRelay(
    {
      port: 0,
      relaySecrets: [TEST_RELAY_SECRET],
      lineChannelSecret: TEST_CHANNEL_SECRET,
      lineAccessToken: { kind: "long-lived", token: TEST_LONG_LIVED_TOKEN },
      lineApiBaseUrl: lineServer.url,
      kintoneBaseUrl: kintoneServer.url,
      kintoneApiTokens: [DEMO_API_TOKEN],
      dataDir,
      timeZone: "Asia/Tokyo",
      signingKeys: [TEST_SIGNING_KEY],
      confirmTimeoutMs: 5_000,
      replyDeadlineMs: 50_000,
      logLevel: "debug",
      userLinking: {
        clientId: OAUTH_CLIENT_ID,
        clientSecret: OAUTH_CLIENT_SECRET,
        publicUrl: relayServer.url,
        linkAppId: String(LINK_APP_ID),
        tokenKey: TEST_TOKEN_KEY,
        lineAccessBaseUrl: accessServer.url,
      },
    },
    { clock, logger, lineTimeoutMs: 2_000, worker: { retryBaseMs: 50 } },
  );
  const store = relay.store;
  if (!(store instanceof SqliteStore)) throw new Error("the linking stack runs on the SQLite store");
  const actAsUser = relay.actAsUser;
  if (!actAsUser) throw new Error("the relay was composed without ActAsUser");
  await relay.start();
  serving.app = relay.app;

  const stack = {
    relayUrl: relayServer.url,
    accessUrl: accessServer.url,
    kintoneUrl: kintoneServer.url,
    line,
    kintone,
    relay,
    store,
    actAsUser,
    logger,
    /** Moves the relay's clock (not the emulators') ahead. */
    advance(ms: number) {
      offsetMs += ms;
    },
    /** A text message from a LINE user reaches the relay's webhook, with a reply token LINE would honour. */
    async sendText(lineUserId: string, text: string, source: { groupId?: string } = {}) {
      const replyToken = line.issueReplyToken({ userId: lineUserId, ...source });
      const response = await postWebhook(relayServer.url, webhookBody([textEvent(text, { userId: lineUserId, replyToken, ...source })]), TEST_CHANNEL_SECRET);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
      return replyToken;
    },
    /** The texts of the replies LINE accepted for this reply token (waits for the first). */
    async replyTo(replyToken: string): Promise<string[]> {
      const delivery = await waitFor(() => line.delivered.find((d) => d.kind === "reply" && d.replyToken === replyToken), 10_000, "the relay's reply");
      return delivery.messages.map((message) => (message as { text?: string }).text ?? "");
    },
    /** `connect` from the LINE user: the one-time start link of the relay's reply. */
    async requestStartLink(lineUserId: string): Promise<string> {
      const replyToken = await stack.sendText(lineUserId, "connect");
      const delivery = await waitFor(() => line.delivered.find((d) => d.kind === "reply" && d.replyToken === replyToken), 10_000, "the relay's reply");
      // The link is a button's URI action, never text (LINE's link preview would open it).
      const url = /"uri":"(http[^"]+\/connect\/start\?t=[^"]+)"/.exec(JSON.stringify(delivery.messages))?.[1];
      if (!url) throw new Error(`no start link button in the reply: ${JSON.stringify(delivery.messages)}`);
      return url;
    },
    /** A phone browser logged in to kintone as `kintoneUserCode` and to LINE as `lineUserId`. */
    browser(kintoneUserCode: string, lineUserId: string, acceptLanguage?: string): Browser {
      const browser = new Browser(acceptLanguage);
      browser.addCookie(kintone.sessionCookie(kintoneUserCode));
      browser.addCookie(line.sessionCookie(lineUserId));
      return browser;
    },
    /**
     * The whole flow, as a user does it: `connect` in LINE, the link opened in a phone browser
     * logged in to kintone and LINE, through kintone's authorization and LINE's account-link page;
     * resolves with the stored link once LINE's accountLink event was handled.
     */
    async link(kintoneUserCode: string, lineUserId: string): Promise<UserLink> {
      const start = await stack.requestStartLink(lineUserId);
      const page = await stack.browser(kintoneUserCode, lineUserId).open(start);
      if (page.status !== 200 || !page.url.startsWith(accessServer.url)) throw new Error(`the flow ended at ${page.url} (${page.status}): ${page.body}`);
      return waitFor(
        async () => {
          const link = await store.userLinks.getLinkByLineUser(lineUserId);
          return link?.kintoneUserCode === kintoneUserCode ? link : undefined;
        },
        10_000,
        `${kintoneUserCode} linked to ${lineUserId}`,
      );
    },
    /** GET/DELETE on the relay with the master secret (or `secret`). */
    v1(method: "GET" | "DELETE", path: string, secret = TEST_RELAY_SECRET) {
      return fetch(`${relayServer.url}${path}`, { method, headers: { authorization: `Bearer ${secret}` } });
    },
    async close() {
      await relay.worker.stop();
      for (const server of servers) await server.close();
      await relay.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

export type LinkingStack = Awaited<ReturnType<typeof startLinkingStack>>;

/**
 * A phone browser: follows redirects itself (to see each hop), keeps cookies as browsers do for
 * these hosts (every server here is `localhost`, and cookies do not tell ports apart; the names differ).
 */
export class Browser {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  constructor(private readonly acceptLanguage?: string) {}

  /** A `name=value` pair, as the emulators' sessionCookie() give it. */
  addCookie(pair: string): void {
    const [name = "", ...rest] = pair.split("=");
    this.cookies.set(name, { value: rest.join("="), path: "/" });
  }

  dropCookie(name: string): void {
    this.cookies.delete(name);
  }

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  /** One request, no redirect followed. */
  async get(url: string): Promise<Response> {
    const path = new URL(url).pathname;
    const cookie = [...this.cookies].filter(([, c]) => path.startsWith(c.path)).map(([name, c]) => `${name}=${c.value}`).join("; ");
    const response = await fetch(url, {
      redirect: "manual",
      headers: { ...(cookie ? { cookie } : {}), ...(this.acceptLanguage ? { "accept-language": this.acceptLanguage } : {}) },
    });
    for (const header of response.headers.getSetCookie()) this.keep(header);
    return response;
  }

  /**
   * Follows redirects from `url` until a page (or `stopAt` matches the next address, which is
   * then returned unvisited): every hop, the last address, its status and body.
   */
  async open(url: string, stopAt?: (next: string) => boolean): Promise<{ hops: string[]; url: string; status: number; body: string; headers: Headers }> {
    const hops: string[] = [];
    let current = url;
    for (let i = 0; i < 10; i++) {
      hops.push(current);
      const response = await this.get(current);
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, current).toString();
        if (stopAt?.(next)) return { hops, url: next, status: response.status, body: "", headers: response.headers };
        current = next;
        continue;
      }
      return { hops, url: current, status: response.status, body: await response.text(), headers: response.headers };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  private keep(header: string): void {
    const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
    const [name = "", ...rest] = pair.split("=");
    const value = rest.join("=");
    const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
    const expired = attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()));
    if (expired || value === "") this.cookies.delete(name);
    else this.cookies.set(name, { value, path });
  }
}
