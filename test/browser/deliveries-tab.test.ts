/**
 * The settings page's 「配信状況」 (Deliveries) tab in Chromium, for a Japanese admin: one
 * notification sent (and acknowledged), one given up after LINE answered 500 past the give-up
 * time. The admin opens the tab, sees the month's count, the sent recipient, the failed one with
 * LINE's words and the dead letter; clicks 「再試行」; LINE (recovered) receives the push once with
 * the original retry key; 「最新の情報に更新」 shows it sent. A wrong key is said plainly. axe finds
 * no WCAG A/AA violation on the tab. Screenshots: /tmp/kline-deliveries-tab-ja*.png.
 */
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, TEST_CHANNEL_SECRET, waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, startPageStack } from "./browser-harness.js";
import { clickButton } from "./kuc-driver.js";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const USER_A = "U" + "a".repeat(32);
const USER_B = "U" + "b".repeat(32);
const HOUR = 60 * 60_000;

let browser: Browser;
let ps: PageStack;
let now = Date.now();

beforeAll(async () => {
  const zip = await ensurePluginBuilt();
  ps = await startPageStack(zip, { language: "ja", stack: { clock: { now: () => now }, giveUpAfterMs: 2 * HOUR, retryBaseMs: 10, monthlyPushCap: 100 } });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ps?.close();
});

async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    type Violation = { id: string; help: string; nodes: { target: string[]; failureSummary?: string }[] };
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })).violations;
  });
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.help}) at ${n.target.join(" ")}: ${n.failureSummary ?? ""}`));
}

async function notifyApproved(userId: string, orderNo: string): Promise<{ recordId: string; id: string }> {
  const recordId = ps.addRecord({ order_no: orderNo, customer: "さくら商店", amount: "1200", line_user_id: userId });
  ps.stack.kintone.runAction(ps.appId, recordId, "Approve");
  const response = await ps.stack.notify(approvalRequest(recordId, demoRuleSet()));
  expect(response.status).toBe(202);
  return { recordId, id: ((await response.json()) as { id: string }).id };
}

const pushes = () => ps.stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");
const running = () => (ps.stack.store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'running'`).get() as { n: number }).n === 0;

it("a ja admin sees the month's count, a sent and a given-up notification, retries the dead letter and sees it sent", async () => {
  ps.configure(demoRuleSet());
  ps.stack.line.setProfile(USER_A, { displayName: "山田花子" });
  ps.stack.line.setMonthlyQuota(200);
  const { stack } = ps;

  // One sent, and tapped 「Got it」.
  const sent = await notifyApproved(USER_A, "A-1");
  await waitFor(() => stack.line.delivered.length === 1, 10_000, "the first push");
  const postbackData = /"data":"([^"]+)"/.exec(JSON.stringify(stack.line.delivered[0]?.messages))?.[1] ?? "";
  const replyToken = stack.line.issueReplyToken({ userId: USER_A });
  expect((await postWebhook(stack.relayUrl, webhookBody([postbackEvent(postbackData, { userId: USER_A, replyToken })]), TEST_CHANNEL_SECRET)).status).toBe(200);
  await waitFor(() => stack.line.requests.some((r) => r.path === "/v2/bot/message/reply"), 10_000, "the reply to the tap");

  // One that LINE refuses with 500 for three hours of clock time: a dead letter.
  stack.line.failNext("push", { status: 500, count: 100_000 });
  const failed = await notifyApproved(USER_B, "B-1");
  await waitFor(() => pushes().length >= 2, 10_000, "the first refused push");
  for (let i = 0; i < 14 && (await stack.store.listDeadLetters()).length === 0; i++) {
    await waitFor(running, 5000, "the attempt to be recorded");
    now += 15 * 60_000;
    stack.relay.worker.wake();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const [letter] = await stack.store.listDeadLetters();
  expect(letter?.recordId).toBe(failed.recordId);
  const refused = pushes().filter((r) => r.status === 500);

  const page = await browser.newPage();
  await page.goto(ps.settingsUrl());
  await page.locator(".kline-rule-card, .kline-rule-add").first().waitFor();
  await page.getByRole("tab", { name: "配信状況" }).click();
  await page.locator(".kline-dt-notification").first().waitFor();

  // The relay counts the given-up delivery too: its reservation is kept for a retry, which sends the same message.
  expect(await page.locator(".kline-dt-count").textContent()).toMatch(/^\d{4}-\d{2}：中継サーバーからの送信 2通／月の上限 100通$/);
  expect(await page.locator(".kline-dt-line-count").textContent()).toBe("LINE側の集計：今月 1通／上限 200通");
  const rows = page.locator(".kline-dt-notification");
  expect(await rows.count()).toBe(2);
  // Newest first: the given-up one, then the sent one with who acknowledged.
  const failedRow = rows.nth(0);
  expect(await failedRow.getAttribute("data-notification")).toBe(failed.id);
  expect(await failedRow.locator(".kline-dt-record").textContent()).toBe(`レコード ${failed.recordId}`);
  expect(await failedRow.locator(".kline-dt-recipient .kline-dt-state").textContent()).toBe("失敗");
  expect(await failedRow.locator(".kline-dt-detail").textContent()).toMatch(/^LINEの応答：gave up: .*500/);
  const sentRow = rows.nth(1);
  expect(await sentRow.getAttribute("data-notification")).toBe(sent.id);
  expect(await sentRow.locator(".kline-dt-recipient").textContent()).toBe("Uaaaa…aaaa 送信済み");
  expect(await sentRow.locator(".kline-dt-ack").textContent()).toMatch(/^山田花子さん：「Got it」/);
  expect(await sentRow.locator("td").nth(2).textContent()).toBe("Approved -> tell the customer");
  const deadRows = page.locator(".kline-dt-dead-letter");
  expect(await deadRows.count()).toBe(1);
  expect(await deadRows.first().getAttribute("data-dead-letter")).toBe(letter?.id);
  expect(await deadRows.first().locator("td").first().textContent()).toBe("LINEへの送信");

  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: "/tmp/kline-deliveries-tab-ja.png", fullPage: true });

  // LINE recovers; the admin retries.
  stack.line.reset();
  await deadRows.first().getByRole("button", { name: /再試行/ }).click();
  await page.locator(".kline-dt-retry-result.kline-test-ok").waitFor();
  expect(await page.locator(".kline-dt-retry-result").textContent()).toBe("もう一度実行するよう登録しました。結果は「最新の情報に更新」で確認できます。");
  await waitFor(() => stack.line.delivered.length === 1, 10_000, "the retried push");
  await waitFor(running, 5000, "the push to be recorded");
  expect(pushes()).toHaveLength(1);
  expect(pushes()[0]?.headers["x-line-retry-key"]).toBe(refused[0]?.headers["x-line-retry-key"]);
  expect(stack.line.delivered[0]?.to).toEqual([USER_B]);

  await clickButton(page, ".kline-dt-refresh");
  await page.locator(".kline-dt-dead-empty").waitFor();
  expect(await page.locator(".kline-dt-dead-empty").textContent()).toBe("あきらめた処理はありません。");
  expect(await rows.nth(0).locator(".kline-dt-recipient").textContent()).toBe("Ubbbb…bbbb 送信済み");
  // The retry used the reservation it had: still 2.
  expect(await page.locator(".kline-dt-count").textContent()).toContain("中継サーバーからの送信 2通／月の上限 100通");
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: "/tmp/kline-deliveries-tab-ja-retried.png", fullPage: true });

  // A wrong key typed on screen: said plainly, nothing shown as if it were this app's.
  await page.getByRole("tab", { name: "ルール" }).click();
  await clickButton(page, ".kline-secret-replace");
  await page.locator("#kline-secret-input").fill("not-the-key-of-this-app-0123456789");
  await page.getByRole("tab", { name: "配信状況" }).click();
  await waitFor(async () => (await page.locator(".kline-dt-status").textContent())?.includes("アプリキーが正しくありません"), 10_000, "the wrong key said");
  expect(await page.locator(".kline-dt-notification, .kline-dt-dead-letter, .kline-dt-count").count()).toBe(0);
  expect(browser.pageErrors).toEqual([]);
}, 180_000);
