/**
 * A save that kintone does not complete: the page says so (ja / en) without an unhandled
 * rejection, and the next opening finds the two stores (getConfig, the proxy config) disagreeing
 * and "Save again" makes them hold the same rule set.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { proxyPrefix } from "../../plugin/src/plugin-config.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, startPageStack } from "./browser-harness.js";
import { clickButton, fillText } from "./kuc-driver.js";

let browser: Browser;
let ps: PageStack;

beforeAll(async () => {
  const zip = await ensurePluginBuilt();
  ps = await startPageStack(zip);
  browser = await launchBrowser();
  // The pages' clock runs as the wall clock does, but a test can move it on: the page gives up on
  // a save after 10 s without kintone's callback, and these tests jump those 10 s instead of
  // waiting them out.
  await browser.context.clock.install();
}, 120_000);

/** How long the page waits for kintone's callback of a save (SAVE_CONFIRM_MS in kintone-platform.ts). */
const SAVE_CONFIRM_MS = 10_000;

/**
 * Once kintone refused `api` (the page's timer for its callback runs from before its request),
 * moves the page's clock past the wait for the callback that will never come.
 */
async function outwaitCallback(api: "setConfig" | "setProxyConfig", failuresBefore: number): Promise<void> {
  await vi.waitFor(() => expect(ps.pages.failedSaves.slice(failuresBefore).map((f) => f.api)).toEqual([api]), { timeout: 10_000 });
  await browser.context.clock.fastForward(SAVE_CONFIRM_MS);
}

afterAll(async () => {
  await browser?.close();
  await ps?.close();
});

async function openSettings(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(ps.settingsUrl());
  await page.locator(".kline-rule").first().waitFor();
  return page;
}

/** The two stores: the rule set getConfig returns, and the one the POST proxy config injects. */
function savedRules() {
  const config = ps.pages.config(ps.appId);
  const post = ps.pages.proxyConfigs(ps.appId).find((p) => p.method === "POST" && p.url === proxyPrefix(ps.stack.relayUrl));
  const name = (rules: string | undefined) => (rules ? (JSON.parse(rules) as RuleSet).rules[0]?.name : undefined);
  return { config: config.ruleSet, proxy: post?.data.rules, configName: name(config.ruleSet), proxyName: name(post?.data.rules) };
}

it(
  "setConfig fails after the proxy configs were saved: the page says so, nothing is thrown, and reopening repairs it with Save again",
  { timeout: 90_000 },
  async () => {
    ps.pages.loginUser.language = "en";
    ps.configure({ ...demoRuleSet(), timeZone: "Asia/Tokyo" } as RuleSet);
    const before = savedRules();
    expect(before.config).toBe(before.proxy);

    const page = await openSettings();
    await fillText(page, ".kline-rule-name", "Renamed before a failed save");
    ps.pages.failNextSave("setConfig");
    const failuresBefore = ps.pages.failedSaves.length;
    await clickButton(page, ".kline-save");
    // The page waits for kintone's callback, which never comes, then says what happened.
    await outwaitCallback("setConfig", failuresBefore);
    const status = page.locator(".kline-status.kline-error-line");
    await status.waitFor({ timeout: 30_000 });
    expect(await status.textContent()).toContain("Not saved (the plugin settings could not be saved");
    expect(ps.pages.failedSaves.map((f) => f.api)).toEqual(["setConfig"]);
    // The proxy configs took the new rules; getConfig still holds the old ones.
    const half = savedRules();
    expect(half.proxyName).toBe("Renamed before a failed save");
    expect(half.configName).toBe(before.configName);
    expect(browser.pageErrors).toEqual([]);
    await page.close();

    // Reopened: the page sees that the relay receives other rules than it shows.
    const again = await openSettings();
    const repair = again.locator(".kline-save-repair");
    await repair.getByText("The last save did not finish").waitFor();
    await clickButton(again, ".kline-save-again");
    await again.locator(".kline-status.kline-saved").waitFor({ timeout: 20_000 });
    const repaired = savedRules();
    expect(repaired.config).toBeDefined();
    expect(repaired.proxy).toBe(repaired.config);
    expect(await repair.textContent()).toBe("");
    expect(browser.pageErrors).toEqual([]);
    await again.close();
  },
);

it("setProxyConfig fails: a Japanese admin reads that nothing was saved, and nothing is thrown into the page", { timeout: 90_000 }, async () => {
  ps.pages.loginUser.language = "ja";
  ps.configure({ ...demoRuleSet(), timeZone: "Asia/Tokyo" } as RuleSet);
  const before = savedRules();
  const page = await openSettings();
  await fillText(page, ".kline-rule-name", "保存に失敗する名前");
  ps.pages.failNextSave("setProxyConfig");
  const failuresBefore = ps.pages.failedSaves.length;
  await clickButton(page, ".kline-save");
  await outwaitCallback("setProxyConfig", failuresBefore);
  const status = page.locator(".kline-status.kline-error-line");
  await status.waitFor({ timeout: 30_000 });
  expect(await status.textContent()).toContain("保存できませんでした（中継サーバーへの送信設定の保存に失敗）");
  expect(ps.pages.failedSaves.at(-1)?.api).toBe("setProxyConfig");
  // Stopped at the first write: neither store changed, so they still agree.
  expect(savedRules()).toEqual(before);
  expect(browser.pageErrors).toEqual([]);
  await page.close();
});
