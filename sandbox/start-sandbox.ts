/**
 * Sandbox mode: the whole loop on one machine with nothing to set up. The relay runs as in
 * production (createRelay, SQLite store, workers, real HTTP to LINE and kintone), but LINE and
 * kintone are the project's emulators, in this process on 127.0.0.1 ephemeral ports, and the
 * kintone page emulator runs the built plugin with its settings already saved for the demo app.
 *
 * One port (PORT) serves everything a browser needs:
 *   /playground           the record page and a phone side by side (emulators/playground)
 *   /k/..., /__emu/...    the kintone page emulator (record page, plugin settings page, proxy)
 *   everything else       the relay itself (/v1/*, /line/webhook, /healthz)
 * Every secret is generated at start and the data dir is a fresh temporary folder, removed on close.
 * As in production, the relay keeps the demo app's rules (what Save registers), kintone's webhook is
 * set up for the demo app (KINTONE_WEBHOOK_TOKEN generated; a status changed anywhere notifies) and
 * the reminder scheduler runs.
 *
 * Connecting kintone users to LINE works as in production too (docs/approvals.md): the kintone
 * emulator has the relay's OAuth client (redirect endpoint {url}/connect/kintone/callback), the
 * manager 佐藤 (sato) and the link app; LINE's account-link page is the LINE emulator's, served on
 * its own port (LINE_ACCESS_BASE_URL), and LINE's webhook (the accountLink event) is this relay's.
 * The playground's phone opens the connect link as a browser logged in to kintone as 佐藤 and to
 * LINE as the demo user.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { DEMO_API_TOKEN, DEMO_APP_ID } from "../emulators/demo-app.js";
import { createKintoneEmulator, type KintoneEmulator } from "../emulators/kintone/kintone-emulator.js";
import { createKintonePageEmulator, type KintonePageEmulator } from "../emulators/kintone-page/kintone-page-emulator.js";
import { createLineEmulator, type LineEmulator } from "../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../emulators/listen.js";
import { createLineWebhookSender } from "../emulators/playground/line-webhook-sender.js";
import { createPlayground } from "../emulators/playground/playground-server.js";
import { planSave } from "../plugin/src/settings/save-plan.js";
import { systemClock } from "../relay/src/clock.js";
import { composeRelay, type ComposedRelay } from "../relay/src/compose-relay.js";
import { deriveAppKey } from "../relay/src/http/app-key.js";
import type { LogLevel } from "../relay/src/logger.js";
import type { RelaySettings } from "../relay/src/settings.js";
import { SANDBOX_APP_NAME, SANDBOX_BOT, SANDBOX_LINK_APP, SANDBOX_MANAGER, SANDBOX_USER, sandboxRuleSet, seedDemoApp } from "./demo-data.js";
import { loadPluginZip } from "./plugin-zip.js";

export interface SandboxOptions {
  /** Port of the relay and the playground (0: any free port). */
  port: number;
  logLevel?: LogLevel;
  /** Lines for the person at the console (default console.log). */
  say?: (line: string) => void;
  /** Called once the port is bound, before the slower start-up steps (the plugin build). */
  onListening?: (url: string) => void;
  /** Default dist/plugin.zip in the checkout (built when missing). */
  pluginZipPath?: string;
}

export interface Sandbox {
  /** Base URL of the relay (and of the playground and the kintone pages). */
  url: string;
  playgroundUrl: string;
  relaySecret: string;
  /** Where the kintone emulator sends the demo app's webhooks: {url}/kintone/webhook/{KINTONE_WEBHOOK_TOKEN}. */
  kintoneWebhookUrl: string;
  user: { id: string; displayName: string };
  /** The kintone user the demo LINE user connects as (the assignee of the review status). */
  manager: { code: string; name: string };
  records: Array<{ id: string; label: string }>;
  appId: number;
  line: LineEmulator;
  kintone: KintoneEmulator;
  pages: KintonePageEmulator;
  /** The relay as composed: its store too, for tests that check what it kept. */
  relay: ComposedRelay;
  dataDir: string;
  close(): Promise<void>;
}

const STARTING_PAGE = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Sandbox starting</title><p style="font-family:sans-serif">The sandbox is starting (building the plugin the first time)…
this page reloads by itself.</p>`;

const secret = (bytes: number): string => randomBytes(bytes).toString("hex");

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const say = options.say ?? ((line: string) => console.log(line));
  const cleanups: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  // Bind the port first: it is the address to print, and a port in use should fail at once.
  let handle: ((request: Request, env: unknown) => Response | Promise<Response>) | undefined;
  const front = new Hono();
  front.all("*", (c) => (handle ? handle(c.req.raw, c.env) : c.html(STARTING_PAGE, 503, { "retry-after": "2" })));
  const frontServer: RunningServer = await listen(front, options.port);
  cleanups.push(() => frontServer.close());
  const url = frontServer.url;
  options.onListening?.(url);

  try {
    const now = systemClock.now;
    const relaySecret = secret(24);
    const channel = { channelId: "2000000001", channelSecret: secret(16) };
    const accessToken = randomBytes(32).toString("base64url");
    const signingKey = secret(32);
    // 32 characters of letters, digits, - and _: what KINTONE_WEBHOOK_TOKEN asks for.
    const kintoneWebhookToken = randomBytes(24).toString("base64url");

    const line = createLineEmulator({
      channels: [channel],
      longLivedTokens: [accessToken],
      botUserId: SANDBOX_BOT.userId,
    });
    line.setProfile(SANDBOX_USER.id, { displayName: SANDBOX_USER.displayName, language: "en" });
    const kintone = createKintoneEmulator({ now, publicUrl: url });
    const records = seedDemoApp(kintone, DEMO_API_TOKEN, now());
    const lineServer = await listen(line.app);
    cleanups.push(() => lineServer.close());
    // access.line.me: the account-link page a connecting user's browser ends on.
    const accessServer = await listen(line.accessApp);
    cleanups.push(() => accessServer.close());
    const kintoneServer = await listen(kintone.app);
    cleanups.push(() => kintoneServer.close());

    // What the cybozu.com administrator and the LINE console set up for connecting (docs/approvals.md, steps 1 and 2).
    const oauthClient = { clientId: "kline-sandbox", clientSecret: secret(24) };
    kintone.registerOAuthClient({ ...oauthClient, redirectUri: `${url}/connect/kintone/callback` });
    line.setWebhook({ url: `${url}/line/webhook`, channelSecret: channel.channelSecret });

    const pluginZip = await loadPluginZip(say, options.pluginZipPath);

    const dataDir = mkdtempSync(path.join(tmpdir(), "kline-sandbox-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const settings: RelaySettings = {
      port: options.port,
      relaySecrets: [relaySecret],
      lineChannelSecret: channel.channelSecret,
      lineAccessToken: { kind: "long-lived", token: accessToken },
      lineApiBaseUrl: lineServer.url,
      // Record links in messages open the emulated record page on this same port.
      kintoneBaseUrl: url,
      kintoneApiTokens: [DEMO_API_TOKEN],
      dataDir,
      timeZone: "Asia/Tokyo",
      signingKeys: [signingKey],
      confirmTimeoutMs: 30_000,
      replyDeadlineMs: 50_000,
      welcomeText: "Thanks for adding us! (sandbox)",
      logLevel: options.logLevel ?? "info",
      kintoneWebhookToken,
      userLinking: {
        ...oauthClient,
        publicUrl: url,
        linkAppId: String(SANDBOX_LINK_APP.id),
        // 32 bytes as 64 hex digits, as RELAY_TOKEN_KEY takes them.
        tokenKey: secret(32),
        lineAccessBaseUrl: accessServer.url,
      },
    };
    // The relay's REST calls go to the kintone emulator itself; the page emulator on this port
    // stands for the browser and answers with its own token.
    const relay = await composeRelay(settings, { kintoneApiBaseUrl: kintoneServer.url });
    cleanups.push(() => relay.close());
    // The worker and the reminder scheduler, started as production starts them.
    await relay.start();

    const pages = createKintonePageEmulator({ pluginZip, kintoneUrl: kintoneServer.url, apiToken: DEMO_API_TOKEN });
    // What the admin's "Save" on the plugin's settings page would store for the demo app: the
    // demo app's own key (what `npm run app-key -- 1` prints), never the master secret.
    const appKey = deriveAppKey(relaySecret, String(DEMO_APP_ID));
    const saved = planSave({
      relayUrl: url,
      appId: String(DEMO_APP_ID),
      newSecret: appKey,
      savedAuthorization: null,
      savedRelayUrl: null,
      ruleSet: sandboxRuleSet(),
    });
    if (!saved.ok) throw new Error(`sandbox: the demo plugin settings are invalid: ${JSON.stringify(saved.problems)}`);
    pages.saveConfig(DEMO_APP_ID, saved.plan.config);
    for (const entry of saved.plan.proxyConfigs) pages.saveProxyConfig(DEMO_APP_ID, entry);
    // Save also registers the rules with the relay (PUT /v1/apps/{appId}/rules, with the app's key):
    // the webhook and the reminders notify from them.
    const registered = await relay.app.request(`/v1/apps/${DEMO_APP_ID}/rules`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${appKey}`, "x-relay-app": String(DEMO_APP_ID) },
      body: JSON.stringify({ rules: saved.plan.config.ruleSet }),
    });
    if (registered.status !== 200) throw new Error(`sandbox: the relay refused the demo rules: ${registered.status} ${await registered.text()}`);
    // The admin's webhook in the demo app's settings (docs/kintone-webhook.md): status changes, and
    // edits so that the relay knows a record's status before it changes.
    const kintoneWebhookUrl = `${url}/kintone/webhook/${kintoneWebhookToken}`;
    kintone.addWebhook(DEMO_APP_ID, { url: kintoneWebhookUrl, events: ["UPDATE_STATUS", "UPDATE_RECORD"] });

    const settingsPath = `/k/admin/app/${DEMO_APP_ID}/plugin/config?pluginId=${pages.pluginId}`;
    const playground = await createPlayground({
      appId: DEMO_APP_ID,
      appName: SANDBOX_APP_NAME,
      records,
      settingsPath,
      user: SANDBOX_USER,
      botName: SANDBOX_BOT.name,
      delivered: line.delivered,
      phoneBrowser: {
        kintoneUser: { ...SANDBOX_MANAGER },
        opens: `${url}/connect/start?`,
        // New logins each time, as the kintone and LINE login stand-ins make them (cookies do not
        // tell ports apart, so the emulators on their own ports see them).
        sessionCookies: () => [kintone.sessionCookie(SANDBOX_MANAGER.code), line.sessionCookie(SANDBOX_USER.id)],
      },
      webhook: createLineWebhookSender({
        webhookUrl: `${url}/line/webhook`,
        channelSecret: channel.channelSecret,
        botUserId: SANDBOX_BOT.userId,
        issueReplyToken: (source) => line.issueReplyToken(source),
      }),
    });

    handle = (request, env) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return Response.redirect(new URL("/playground", request.url).href, 302);
      if (pathname === "/playground" || pathname.startsWith("/playground/")) return playground.fetch(request, env);
      if (pathname.startsWith("/k/") || pathname.startsWith("/__emu/")) return pages.app.fetch(request, env);
      return relay.app.fetch(request, env);
    };

    return {
      url,
      playgroundUrl: `${url}/playground`,
      relaySecret,
      kintoneWebhookUrl,
      user: { ...SANDBOX_USER },
      manager: { ...SANDBOX_MANAGER },
      records,
      appId: DEMO_APP_ID,
      line,
      kintone,
      pages,
      relay,
      dataDir,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
