/**
 * The plugin's settings page in the kintone page emulator, driven like an admin would: relay,
 * secret, "Test connection", a rule built with the pickers, live preview, save, reload.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, runAction, startPageStack, waitForKintonePage } from "./browser-harness.js";
import {
  clickButton,
  controlError,
  dropdownOptions,
  fillText,
  pickDropdown,
  selectedChoices,
  toggleChoice,
} from "./kuc-driver.js";

const USER = `U${"c3".repeat(16)}`;
let browser: Browser;
let ps: PageStack;

beforeAll(async () => {
  const zip = await ensurePluginBuilt();
  ps = await startPageStack(zip);
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

const getConfigInPage = (page: Page) =>
  page.evaluate(() => {
    const k = (window as unknown as { kintone: { $PLUGIN_ID: string; plugin: { app: { getConfig(id: string): unknown } } } }).kintone;
    return JSON.stringify(k.plugin.app.getConfig(k.$PLUGIN_ID));
  });

describe("settings page", () => {
  it("fill, test, preview, save; reload shows the values; the secret is in neither getConfig nor the page", async () => {
    const secret = ps.stack.relaySecret;
    const page = await openSettings();

    await fillText(page, ".kline-relay-url", ps.stack.relayUrl);
    // A wrong secret: the test says what is wrong.
    await page.locator("#kline-secret-input").fill("wrong-secret");
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-failed").waitFor();
    expect(await page.locator(".kline-test-result").textContent()).toContain("401");
    await page.locator("#kline-secret-input").fill(secret);
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-ok").waitFor();
    expect(await page.locator(".kline-test-result").textContent()).toContain("Connected to relay");

    // A rule, built with the pickers.
    await clickButton(page, ".kline-rule-add");
    await fillText(page, ".kline-rule-name", "Approved -> customer");
    await toggleChoice(page, ".kline-trigger-actions", "Approve");
    await toggleChoice(page, ".kline-trigger-to", "Approved");
    await toggleChoice(page, ".kline-recipient-fields", "(line_user_id)");
    // Only text fields can hold LINE IDs.
    const recipientItems = await page.locator('.kline-recipient-fields [role="option"]').allTextContents();
    expect(recipientItems.map((t) => t.trim()).sort()).toEqual(
      ["Acknowledged by (ack_by)", "Acknowledgement (ack_status)", "Customer (customer)", "LINE user ID (line_user_id)", "Notes (notes)", "Order number (order_no)"].sort(),
    );

    // Condition: ops follow the field's type.
    await clickButton(page, ".kline-cond-add");
    await pickDropdown(page, ".kline-cond-field", "Priority (priority)");
    const priorityOps = await dropdownOptions(page, ".kline-cond-op");
    expect(priorityOps).toContain("equals");
    expect(priorityOps).not.toContain(">");
    await pickDropdown(page, ".kline-cond-op", "equals");
    await pickDropdown(page, ".kline-cond-value", "High");

    // Invalid input is shown next to its control, and nothing is saved.
    await clickButton(page, ".kline-save");
    await waitFor(async () => (await controlError(page, ".kline-message-title")) !== "", 5_000, "title error");
    expect(await controlError(page, ".kline-message-title")).toContain("must not be empty");
    expect(ps.pages.config(ps.appId)).toEqual({});
    expect(ps.pages.proxyConfigs(ps.appId)).toEqual([]);

    await fillText(page, ".kline-message-title", "Order {{order_no}} approved");
    await toggleChoice(page, ".kline-message-fields", "Customer (customer)");
    await toggleChoice(page, ".kline-message-fields", "Amount (amount)");

    // A button whose write-back targets fit: date-time for the time, text for the name.
    await clickButton(page, ".kline-button-add");
    await fillText(page, ".kline-button-label", "Got it");
    expect(await dropdownOptions(page, ".kline-wb-timestamp")).toEqual(["(none)", "Acknowledged at (ack_at)"]);
    await pickDropdown(page, ".kline-wb-set-field", "Acknowledgement (ack_status)");
    await fillText(page, ".kline-wb-set-value", "Acknowledged");
    await pickDropdown(page, ".kline-wb-timestamp", "Acknowledged at (ack_at)");
    await pickDropdown(page, ".kline-wb-user", "Acknowledged by (ack_by)");
    await fillText(page, ".kline-button-reply", "Thanks, we noted it.");

    // The live preview is the builder's bubble for a sample record.
    const bubble = page.locator(".kline-preview .kline-flex-bubble");
    await waitFor(async () => ((await bubble.textContent()) ?? "").includes("Got it"), 5_000, "preview button");
    const preview = (await bubble.textContent()) ?? "";
    expect(preview).toMatch(/Order .+ approved/);
    expect(preview).toContain("Approve");
    expect(preview).toContain("Customer");
    expect(preview).toContain("Open in kintone");

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();

    // What was saved, server side.
    const config = ps.pages.config(ps.appId);
    expect(Object.keys(config).sort()).toEqual(["relayUrl", "ruleSet"]);
    const ruleSet = JSON.parse(config.ruleSet!) as RuleSet;
    expect(ruleSet.rules).toHaveLength(1);
    expect(ruleSet.rules[0]).toMatchObject({
      name: "Approved -> customer",
      trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
      when: { all: [{ field: "priority", op: "eq", value: "High" }] },
      recipients: { fields: ["line_user_id"], ids: [] },
      message: { title: "Order {{order_no}} approved", fields: ["amount", "customer"], recordLink: true },
      buttons: [
        {
          label: "Got it",
          reply: "Thanks, we noted it.",
          writeBack: { set: { ack_status: "Acknowledged" }, timestampField: "ack_at", userField: "ack_by" },
        },
      ],
    });
    const proxyConfigs = ps.pages.proxyConfigs(ps.appId);
    expect(proxyConfigs.map((p) => [p.method, p.url]).sort()).toEqual([
      ["GET", `${ps.stack.relayUrl}/v1/`],
      ["POST", `${ps.stack.relayUrl}/v1/`],
    ]);
    for (const entry of proxyConfigs) expect(entry.headers).toEqual({ Authorization: `Bearer ${secret}` });
    expect(proxyConfigs.find((p) => p.method === "POST")!.data).toEqual({ rules: config.ruleSet });
    expect(JSON.stringify(config)).not.toContain(secret);

    // Reload: the values are back, the secret is not.
    await page.reload();
    await page.locator(".kline-rule").waitFor();
    expect(await page.locator(".kline-relay-url input").inputValue()).toBe(ps.stack.relayUrl);
    expect(await page.locator(".kline-rule-name input").inputValue()).toBe("Approved -> customer");
    expect(await page.locator(".kline-message-title input").inputValue()).toBe("Order {{order_no}} approved");
    expect(await selectedChoices(page, ".kline-trigger-actions")).toEqual(["Approve"]);
    expect(await page.locator(".kline-secret-state").textContent()).toContain("saved");
    expect(await page.locator("#kline-secret-input").inputValue()).toBe("");
    expect(await getConfigInPage(page)).not.toContain(secret);
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate(() => document.body.innerText)).not.toContain(secret);

    // Saving again without retyping the secret keeps it.
    await fillText(page, ".kline-rule-name", "Approved -> the customer");
    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    for (const entry of ps.pages.proxyConfigs(ps.appId)) expect(entry.headers).toEqual({ Authorization: `Bearer ${secret}` });
    await page.close();

    // The saved settings drive the record page; the secret never reaches it.
    ps.stack.line.reset();
    const id = ps.addRecord({ order_no: "S-1", priority: "High", line_user_id: USER });
    const record = await browser.newPage();
    await record.goto(ps.recordUrl(id));
    await waitForKintonePage(record);
    expect(await record.content()).not.toContain(secret);
    expect(await getConfigInPage(record)).not.toContain(secret);
    await runAction(record, "Approve");
    await waitFor(() => ps.stack.line.pushesTo(USER).length === 1, 10_000, "the push");
    expect(JSON.stringify(ps.stack.line.pushesTo(USER)[0]!.messages)).toContain("Order S-1 approved");
    await record.close();
  });

  it("opens saved rules that no longer validate for repair, with the errors at their controls", async () => {
    const broken = { version: 1, rules: [{ id: "old", trigger: { actions: [], from: [], to: [] }, recipients: { fields: [], ids: [] }, message: { title: "", fields: [] }, buttons: [] }] };
    ps.pages.saveConfig(ps.appId, { relayUrl: ps.stack.relayUrl, ruleSet: JSON.stringify(broken) });
    const page = await openSettings();
    await page.locator(".kline-rule").waitFor();
    expect(await page.locator(".kline-status").textContent()).toContain("not valid any more");
    expect(await controlError(page, ".kline-message-title")).toContain("must not be empty");
    expect(await page.locator(".kline-rule-id input").inputValue()).toBe("old");
    await page.close();
  });

  it("speaks Japanese to a Japanese admin", async () => {
    ps.pages.loginUser.language = "ja";
    try {
      const page = await openSettings();
      expect(await page.locator(".kline-title").textContent()).toBe("LINE通知");
      expect(await page.locator(".kline-save").textContent()).toContain("保存");
      expect(await page.locator(".kline-test").textContent()).toContain("接続テスト");
      await page.close();
    } finally {
      ps.pages.loginUser.language = "en";
    }
    expect(browser.pageErrors).toEqual([]);
  });
});
