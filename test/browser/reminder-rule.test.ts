/**
 * A reminder rule made on the settings page, end to end: the admin (kintone in Japanese) picks
 * "date reminder", the date field, 1 day before, 09:00; the preview shows the relay's reminder
 * line; Save registers the rule set with the relay; with the relay's clock at 09:00 the day
 * before, the scheduler sends the due record's reminder to the LINE emulator, and only it.
 */
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, startPageStack } from "./browser-harness.js";
import { clickButton, dropdownOptions, fillText, pickDropdown, toggleChoice } from "./kuc-driver.js";

const USER = `U${"e7".repeat(16)}`;
/** 2030-05-01 08:59 and 09:00 in Tokyo (UTC+9). */
const BEFORE_AT = Date.parse("2030-04-30T23:59:00Z");
const AT = Date.parse("2030-05-01T00:00:00Z");
const SCREENSHOT = "/tmp/kline-reminder-rule-ja.png";

class MovableClock {
  constructor(public time: number) {}
  now = () => this.time;
}

const clock = new MovableClock(BEFORE_AT);
let browser: Browser;
let ps: PageStack;

beforeAll(async () => {
  const zip = await ensurePluginBuilt();
  ps = await startPageStack(zip, { language: "ja", stack: { clock, reminderIntervalMs: 50 } });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ps?.close();
});

async function openSettings(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(ps.settingsUrl());
  await page.locator(".kline-rule-add").waitFor();
  return page;
}

const pushes = () => ps.stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");

describe("a reminder rule on the settings page", () => {
  it("is made with the date field, 1 day before, 09:00, previewed as the relay sends it, registered on Save, and sent at 09:00 the day before", async () => {
    // The records are in kintone before the admin opens the page: the preview uses the newest one.
    const due = ps.addRecord({ order_no: "D-1", customer: "Due Tomorrow Ltd", due_date: "2030-05-02", line_user_id: USER });
    ps.addRecord({ order_no: "D-2", customer: "Later Ltd", due_date: "2030-05-03", line_user_id: USER });

    const page = await openSettings();
    await fillText(page, ".kline-relay-url", ps.stack.relayUrl);
    await page.locator("#kline-secret-input").fill(deriveAppKey(ps.stack.relaySecret, String(ps.appId)));

    await clickButton(page, ".kline-rule-add");
    await fillText(page, ".kline-rule-name", "期日の前日のお知らせ");
    expect(await dropdownOptions(page, ".kline-trigger-kind")).toEqual(["プロセス管理の操作", "日付（リマインダー）"]);
    await pickDropdown(page, ".kline-trigger-kind", "日付（リマインダー）");
    // Only DATE and DATETIME fields can be picked.
    await page.locator(".kline-schedule-field").waitFor();
    expect(await dropdownOptions(page, ".kline-schedule-field")).toEqual(["Due date (due_date)", "Acknowledged at (ack_at)"]);
    await pickDropdown(page, ".kline-schedule-field", "Due date (due_date)");
    await fillText(page, ".kline-schedule-days", "-1");
    await fillText(page, ".kline-schedule-at", "09:00");
    expect(await page.locator(".kline-schedule-when").textContent()).toBe(
      "各レコードの「Due date」の1日前、09:00（ルールのタイムゾーン）に送ります。",
    );
    // No action pickers for a reminder.
    expect(await page.locator(".kline-trigger-actions").count()).toBe(0);

    await toggleChoice(page, ".kline-recipient-fields", "(line_user_id)");
    await fillText(page, ".kline-message-title", "{{order_no}}の返却期限が近づいています");
    await pickDropdown(page, ".kline-message-field-add", "Customer (customer)");
    await pickDropdown(page, ".kline-message-field-add", "Due date (due_date)");

    // The preview: the newest record (D-2, due the 3rd), with the relay's reminder line in Japanese.
    const bubble = page.locator(".kline-preview .kline-flex-bubble");
    await waitFor(async () => ((await bubble.textContent()) ?? "").includes("リマインダー"), 5_000, "the reminder preview");
    const preview = (await bubble.textContent()) ?? "";
    expect(preview).toContain("D-2の返却期限が近づいています");
    expect(preview).toContain("リマインダー：Due date 2030-05-03（明日）");
    expect(preview).toContain("Later Ltd");

    // The webhook note: the URL from the relay URL, a placeholder for the token, and the reminder named.
    expect(await page.locator(".kline-webhook-url").inputValue()).toBe(`${ps.stack.relayUrl}/kintone/webhook/<KINTONE_WEBHOOK_TOKEN>`);
    expect(await page.locator(".kline-webhook-reminders").textContent()).toContain("「期日の前日のお知らせ」");

    mkdirSync("/tmp", { recursive: true });
    await page.locator(".kline-rule").first().screenshot({ path: SCREENSHOT });
    await page.screenshot({ path: SCREENSHOT.replace(".png", "-page.png"), fullPage: true });

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    await page.locator(".kline-registered").waitFor({ timeout: 10_000 });

    // What the relay keeps: the schedule trigger, exactly as the admin set it.
    const stored = await fetch(`${ps.stack.relayUrl}/v1/apps/${ps.appId}/rules`, {
      headers: { authorization: `Bearer ${ps.stack.relaySecret}` },
    });
    expect(stored.status).toBe(200);
    const ruleSet = JSON.parse(((await stored.json()) as { rules: string }).rules) as RuleSet;
    expect(ruleSet.language).toBe("ja");
    expect(ruleSet.rules).toHaveLength(1);
    expect(ruleSet.rules[0]).toMatchObject({
      name: "期日の前日のお知らせ",
      trigger: { actions: [], from: [], to: [], schedule: { field: "due_date", offsetDays: -1, at: "09:00" } },
      recipients: { fields: ["line_user_id"], ids: [] },
      message: { title: "{{order_no}}の返却期限が近づいています", fields: ["customer", "due_date"] },
    });
    await page.close();

    // 08:59: nothing. 09:00 the day before D-1's due date: D-1's reminder, and only it.
    expect(await ps.stack.relay.reminders.runDue()).toBe(0);
    expect(pushes()).toHaveLength(0);
    clock.time = AT;
    await waitFor(() => pushes().length === 1, 8_000, "the reminder push");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes()).toHaveLength(1);
    const body = pushes()[0]!.body as { to: string; messages: Array<{ altText: string; contents: unknown }> };
    expect(body.to).toBe(USER);
    expect(body.messages[0]!.altText).toBe("D-1の返却期限が近づいています");
    const contents = JSON.stringify(body.messages[0]!.contents);
    expect(contents).toContain("リマインダー：Due date 2030-05-02（明日）");
    expect(contents).toContain("Due Tomorrow Ltd");
    expect(ps.stack.kintone.getRecord(ps.appId, due).order_no?.value).toBe("D-1");
  }, 90_000);
});
