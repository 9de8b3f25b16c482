/**
 * What the browser tests share: the built plugin zip (built when missing or older than its
 * sources), Debian's chromium driven by playwright-core, and the whole stack (relay, LINE and
 * kintone emulators) with the kintone page emulator in front of it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { DEMO_API_TOKEN } from "../../emulators/demo-app.js";
import type { KintonePageEmulator } from "../../emulators/kintone-page/kintone-page-emulator.js";
import { createKintonePageEmulator } from "../../emulators/kintone-page/kintone-page-emulator.js";
import type { RunningServer } from "../../emulators/listen.js";
import { listen } from "../../emulators/listen.js";
import { planSave } from "../../plugin/src/settings/save-plan.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import type { RuleSet } from "../../common/rules/rule-set.js";
import type { Stack, StackOptions } from "../helpers/start-stack.js";
import { startStack } from "../helpers/start-stack.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const PLUGIN_ZIP = path.join(ROOT, "dist", "plugin.zip");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function newestSourceTime(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "dist" && entry.name !== "node_modules") walk(full);
      } else {
        newest = Math.max(newest, statSync(full).mtimeMs);
      }
    }
  };
  for (const dir of ["plugin", "common"]) walk(path.join(ROOT, dir));
  for (const file of ["manifest.json", "webpack.config.js", "scripts/build-plugin.ts", "package.json"]) {
    newest = Math.max(newest, statSync(path.join(ROOT, file)).mtimeMs);
  }
  return newest;
}

/** `npm run build` unless dist/plugin.zip is newer than every source; one build at a time. */
export async function ensurePluginBuilt(): Promise<Buffer> {
  const lock = path.join(ROOT, "dist", ".build-lock");
  mkdirSync(path.dirname(lock), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building; a lock older than 2 minutes is a leftover.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmdirSync(lock);
      if (Date.now() - started > 120_000) throw new Error("timed out waiting for the plugin build lock");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (!existsSync(PLUGIN_ZIP) || statSync(PLUGIN_ZIP).mtimeMs < newestSourceTime()) {
      execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "pipe" });
    }
  } finally {
    rmdirSync(lock);
  }
  return readFileSync(PLUGIN_ZIP);
}

export interface Browser {
  context: BrowserContext;
  /** Uncaught errors of any page, for asserting there were none. */
  pageErrors: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A headless chromium with a new, empty profile. */
export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "kline-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1400, height: 1000 },
  });
  // Fail a step with its selector, well before the test's own timeout.
  context.setDefaultTimeout(8_000);
  const pageErrors: string[] = [];
  context.on("page", (page) => page.on("pageerror", (error) => pageErrors.push(error.message)));
  return {
    context,
    pageErrors,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface PageStack {
  stack: Stack;
  pages: KintonePageEmulator;
  pagesUrl: string;
  appId: number;
  /** Saves plugin settings as the settings page would (config + proxy configs). */
  configure(ruleSet: RuleSet, options?: { relayUrl?: string; secret?: string }): void;
  /** A demo record in the initial status; returns its id. */
  addRecord(values?: Record<string, unknown>): string;
  recordUrl(recordId: string, mobile?: boolean): string;
  settingsUrl(): string;
  close(): Promise<void>;
}

export async function startPageStack(pluginZip: Buffer, options: { language?: string; stack?: StackOptions } = {}): Promise<PageStack> {
  const stack = await startStack(options.stack);
  const pages = createKintonePageEmulator({
    pluginZip,
    kintoneUrl: stack.kintoneUrl,
    apiToken: DEMO_API_TOKEN,
    loginUser: { language: options.language ?? "en" },
    proxyTimeoutMs: 10_000,
  });
  let server: RunningServer;
  try {
    server = await listen(pages.app);
  } catch (error) {
    await stack.close();
    throw error;
  }
  const appId = stack.demoAppId;
  return {
    stack,
    pages,
    pagesUrl: server.url,
    appId,
    configure(ruleSet, configureOptions = {}) {
      const result = planSave({
        relayUrl: configureOptions.relayUrl ?? stack.relayUrl,
        appId: String(appId),
        // What an admin pastes: this app's key (npm run app-key -- <appId>), not the master secret.
        newSecret: configureOptions.secret ?? deriveAppKey(stack.relaySecret, String(appId)),
        savedAuthorization: null,
        savedRelayUrl: null,
        ruleSet,
      });
      if (!result.ok) throw new Error(`bad test settings: ${JSON.stringify(result.problems)}`);
      pages.saveConfig(appId, result.plan.config);
      for (const entry of result.plan.proxyConfigs) pages.saveProxyConfig(appId, entry);
    },
    addRecord(values = {}) {
      return stack.kintone.addRecord(appId, values).id;
    },
    recordUrl: (recordId, mobile = false) =>
      mobile ? `${server.url}/k/m/${appId}/show?record=${recordId}` : `${server.url}/k/${appId}/show#record=${recordId}`,
    settingsUrl: () => `${server.url}/k/admin/app/${appId}/plugin/config?pluginId=${pages.pluginId}`,
    async close() {
      await server.close();
      await stack.close();
    },
  };
}

/** Waits until the page emulator has loaded the plugin and fired the first events. */
export async function waitForKintonePage(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __kintoneEmu?: unknown }).__kintoneEmu !== undefined);
  await page.evaluate(() => (window as unknown as { __kintoneEmu: { ready: Promise<void> } }).__kintoneEmu.ready);
}

/** Runs a process-management action as a user clicking its button would. */
export function runAction(page: Page, action: string): Promise<{ cancelled: boolean; error?: string; status: string }> {
  return page.evaluate(
    (name) =>
      (window as unknown as {
        __kintoneEmu: { runAction(n: string): Promise<{ cancelled: boolean; error?: string; status: string }> };
      }).__kintoneEmu.runAction(name),
    action,
  );
}
