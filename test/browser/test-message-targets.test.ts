/**
 * "Send a test message" to targets the admin picks by what they know: a group by its name (LINE's
 * group summary, fetched by the relay when the bot joined) and "this record's customer" (the LINE
 * user ID in the rule's recipient field of the record the admin typed). Chromium, a Japanese admin;
 * each push is checked where it lands, in the LINE emulator. Screenshot: /tmp/kline-test-targets-ja.png.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { newEventId, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { TEST_CHANNEL_SECRET, waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, startPageStack } from "./browser-harness.js";
import { clickButton, dropdownOptions, fillText, pickDropdown } from "./kuc-driver.js";

const GROUP = `C${"3f".repeat(16)}`;
const CUSTOMER = `U${"7a".repeat(16)}`;

describe("Send a test message: a group by name and a record's LINE user (ja admin)", () => {
  let browser: Browser;
  let ps: PageStack;

  beforeAll(async () => {
    const zip = await ensurePluginBuilt();
    ps = await startPageStack(zip, { language: "ja" });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ps?.close();
  });

  it("offers the group 「配送チーム」 and the record's customer, and each push reaches LINE with that `to`", async () => {
    ps.configure({ ...demoRuleSet(), language: "ja" });
    // The bot is added to a LINE group: LINE sends join; the relay asks the group's name.
    ps.stack.line.setGroupSummary(GROUP, { groupName: "配送チーム" });
    const join = { type: "join", mode: "active", timestamp: Date.now(), source: { type: "group", groupId: GROUP }, webhookEventId: newEventId(), deliveryContext: { isRedelivery: false }, replyToken: "x" };
    expect((await postWebhook(ps.stack.relayUrl, webhookBody([join]), TEST_CHANNEL_SECRET)).status).toBe(200);
    await waitFor(async () => (await ps.stack.store.listGroups())[0]?.name === "配送チーム", 10_000, "the group's name stored");
    ps.addRecord({ order_no: "T-1", customer: "別のお客様" });
    const recordId = ps.addRecord({ order_no: "T-9", customer: "さくら商店", line_user_id: CUSTOMER });

    const page = await browser.newPage();
    await page.goto(ps.settingsUrl());
    await page.locator(".kline-tm-record").waitFor();

    // The record number (a second record, so the number typed is not the preview's), then the
    // record's own LINE users for the rule.
    await fillText(page, ".kline-tm-record", recordId);
    await page.locator(".kline-tm-record input").press("Tab");
    await page.locator(".kline-tm-record-users button[aria-haspopup]").waitFor({ state: "visible", timeout: 10_000 });
    const userItem = `${CUSTOMER}（フィールド「line_user_id」）`;
    await pickDropdown(page, ".kline-tm-record-users", userItem);
    expect(await page.locator(".kline-tm-to input").inputValue()).toBe(CUSTOMER);
    await clickButton(page, ".kline-tm-send");
    await page.locator(".kline-tm-result.kline-tm-ok").waitFor();
    const toCustomer = await waitFor(() => ps.stack.line.pushesTo(CUSTOMER)[0], 5_000, "the push to the record's customer");
    expect(toCustomer.to).toEqual([CUSTOMER]);
    expect((toCustomer.messages[0] as { altText: string }).altText).toBe("Order T-9 approved");

    // Groups by name, not by ID.
    await clickButton(page, ".kline-tm-load-groups");
    await page.locator(".kline-tm-groups button[aria-haspopup]").waitFor({ state: "visible", timeout: 10_000 });
    await page.locator(".kline-tm-groups button[aria-haspopup]").click();
    const groupItems = await dropdownOptions(page, ".kline-tm-groups");
    await page.keyboard.press("Escape");
    const groupItem = groupItems.find((label) => label.startsWith("グループ「配送チーム」"));
    expect(groupItem, `options: ${groupItems.join(" | ")}`).toBeDefined();
    expect(groupItems.some((label) => label.includes(GROUP))).toBe(false);
    await pickDropdown(page, ".kline-tm-groups", "配送チーム");
    expect(await page.locator(".kline-tm-to input").inputValue()).toBe(GROUP);
    await clickButton(page, ".kline-tm-send");
    const toGroup = await waitFor(() => ps.stack.line.delivered.find((d) => d.to.includes(GROUP)), 5_000, "the push to the group");
    expect(toGroup.kind).toBe("push");
    expect(toGroup.to).toEqual([GROUP]);
    const pushRequest = ps.stack.line.requests.find((r) => r.path === "/v2/bot/message/push" && (r.body as { to?: string }).to === GROUP);
    expect(pushRequest?.status).toBe(200);

    await page.screenshot({ path: "/tmp/kline-test-targets-ja.png", fullPage: true });
    await page.close();
  }, 120_000);
});
