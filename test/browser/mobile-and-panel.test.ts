/**
 * The mobile event path, the record panel (deliveries, then the acknowledgement a LINE tap wrote)
 * and the "LINE link code" action, against the real relay and emulators.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { postWebhook, postbackEvent, webhookBody } from "../helpers/line-webhook.js";
import { TEST_CHANNEL_SECRET, waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, runAction, startPageStack, waitForKintonePage } from "./browser-harness.js";

const USER = `U${"b2".repeat(16)}`;
let browser: Browser;
let ps: PageStack;

beforeAll(async () => {
  const zip = await ensurePluginBuilt();
  ps = await startPageStack(zip);
  ps.configure(demoRuleSet() as RuleSet);
  ps.stack.line.setProfile(USER, { displayName: "Tanaka Taro" });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ps?.close();
});

function findPostbackData(messages: unknown[]): string {
  const text = JSON.stringify(messages);
  const match = /"type":"postback"[^}]*?"data":"([^"]+)"/.exec(text) ?? /"data":"([^"]+)"[^}]*?"type":"postback"/.exec(text);
  if (!match?.[1]) throw new Error(`no postback button in ${text.slice(0, 300)}`);
  return match[1];
}

/** Clicks the panel's Refresh until `selector` shows up (the relay works asynchronously). */
async function refreshUntil(page: Page, selector: string): Promise<void> {
  await waitFor(
    async () => {
      if ((await page.locator(selector).count()) > 0) return true;
      await page.locator(".kline-refresh").click();
      await page.waitForTimeout(150);
      return false;
    },
    10_000,
    selector,
  );
}

describe("mobile record page and the deliveries panel", () => {
  it("the mobile process.proceed event sends the notification and one push", async () => {
    ps.stack.line.reset();
    const id = ps.addRecord({ order_no: "M-1", line_user_id: USER });
    const page = await browser.newPage();
    await page.goto(ps.recordUrl(id, true));
    await waitForKintonePage(page);
    expect(await page.evaluate(() => (window as unknown as { kintone: { app: { getId(): unknown } } }).kintone.app.getId())).toBeNull();

    const result = await runAction(page, "Approve");
    expect(result).toEqual({ cancelled: false, status: "Approved" });
    const fired = await page.evaluate(() => (window as unknown as { __kintoneEmu: { firedEvents: string[] } }).__kintoneEmu.firedEvents);
    expect(fired).toContain("mobile.app.record.detail.process.proceed");
    await waitFor(() => ps.stack.line.pushesTo(USER).length === 1, 10_000, "the push");
    expect(JSON.stringify(ps.stack.line.pushesTo(USER)[0]!.messages)).toContain("Order M-1 approved");
    // The panel is on mobile too.
    await refreshUntil(page, '.kline-recipient[data-state="sent"]');
    await page.close();
  });

  it("the panel shows the delivery, then the acknowledgement after the LINE user taps the button", async () => {
    ps.stack.line.reset();
    const id = ps.addRecord({ order_no: "P-1", line_user_id: USER });
    const page = await browser.newPage();
    await page.goto(ps.recordUrl(id));
    await waitForKintonePage(page);
    expect(await page.locator(".kline-empty").textContent()).toContain("No LINE messages");

    await runAction(page, "Approve");
    const push = await waitFor(() => ps.stack.line.pushesTo(USER)[0], 10_000, "the push");
    // No click: after an action that notified, the panel re-reads until the delivery is there.
    await page.locator('.kline-recipient[data-state="sent"]').waitFor({ timeout: 10_000 });
    expect(await page.locator(".kline-delivery").count()).toBe(1);
    expect(await page.locator(".kline-delivery").textContent()).toContain("Approved -> tell the customer");
    expect(await page.locator(".kline-ack").count()).toBe(0);

    const replyToken = ps.stack.line.issueReplyToken({ userId: USER });
    const body = webhookBody([postbackEvent(findPostbackData(push.messages), { userId: USER, replyToken })]);
    const answer = await postWebhook(ps.stack.relayUrl, body, TEST_CHANNEL_SECRET);
    expect(answer.status).toBe(200);

    await refreshUntil(page, ".kline-ack");
    const ack = (await page.locator(".kline-ack").textContent()) ?? "";
    expect(ack).toContain("Got it");
    expect(ack).toContain("Tanaka Taro");
    await page.close();
  });

  it("the LINE link code action shows a code from the relay with instructions", async () => {
    const id = ps.addRecord({ order_no: "L-1" });
    const page = await browser.newPage();
    await page.goto(ps.recordUrl(id));
    await waitForKintonePage(page);
    await page.locator(".kline-link-button").click();
    await page.locator(".kline-link-create").click();
    const code = page.locator(".kline-link-code");
    await code.waitFor({ timeout: 5_000 });
    expect(((await code.textContent()) ?? "").trim()).toMatch(/\S{4,}/);
    expect(await page.locator(".kline-link-result").textContent()).toContain("send this code");
    const calls = ps.pages.proxyCalls.filter((c) => c.url.endsWith("/v1/link-codes"));
    expect(JSON.parse(calls.at(-1)!.body!)).toMatchObject({ appId: String(ps.appId), recordId: id, field: "line_user_id" });
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });
});
