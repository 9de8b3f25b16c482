/**
 * The plugin's settings page in the kintone page emulator, driven like an admin would: relay,
 * secret, "Test connection", a rule built with the pickers, live preview, save, reload.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { demoRuleSet } from "../../emulators/demo-app.js";
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
import { deriveAppKey } from "../../relay/src/http/app-key.js";

const USER = `U${"c3".repeat(16)}`;
/** What the admin pastes into the settings page: this app's key (npm run app-key -- <appId>). */
const appKey = (appId: number | string = ps.appId) => deriveAppKey(ps.stack.relaySecret, String(appId));
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

/** The data-code of each row of a list (message fields, write-back pairs), in page order. */
const rowCodes = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.code ?? ""));

/** Which of `labels` the preview bubble shows, in its order (texts that are exactly a label). */
async function previewOrder(page: Page, labels: string[]): Promise<string[]> {
  const texts = (await page.locator(".kline-preview .kline-flex-bubble .kline-flex-text").allTextContents()).map((t) => t.trim());
  return texts.filter((t) => labels.includes(t));
}

const savedRuleSet = (): RuleSet => JSON.parse(ps.pages.config(ps.appId).ruleSet ?? "null") as RuleSet;

describe("settings page", () => {
  it("fill, test, preview, save; reload shows the values; the secret is in neither getConfig nor the page", async () => {
    const secret = appKey();
    const page = await openSettings();

    await fillText(page, ".kline-relay-url", ps.stack.relayUrl);
    // A wrong secret: the test says what is wrong.
    await page.locator("#kline-secret-input").fill("wrong-secret");
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-failed").waitFor();
    expect(await page.locator(".kline-test-result").textContent()).toContain("The app key is wrong");
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
    // Fields shown: in the order they are added (not alphabetical).
    await pickDropdown(page, ".kline-message-field-add", "Customer (customer)");
    await pickDropdown(page, ".kline-message-field-add", "Amount (amount)");

    // A button whose write-back targets fit: date-time for the time, text for the name.
    await clickButton(page, ".kline-button-add");
    await fillText(page, ".kline-button-label", "Got it");
    expect(await dropdownOptions(page, ".kline-wb-timestamp")).toEqual(["(none)", "Acknowledged at (ack_at)"]);
    await pickDropdown(page, ".kline-wb-set-add", "Acknowledgement (ack_status)");
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
    // A customer rule (the default audience) carries no kintone link: a customer cannot open kintone.
    expect(preview).not.toContain("Open in kintone");

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();

    // What was saved, server side.
    const config = ps.pages.config(ps.appId);
    expect(Object.keys(config).sort()).toEqual(["relayUrl", "ruleSet"]);
    const ruleSet = JSON.parse(config.ruleSet!) as RuleSet;
    // The admin's kintone time zone goes with the rules, so browser and relay judge dates alike.
    expect(ruleSet.timeZone).toBe("Asia/Tokyo");
    expect(ruleSet.rules).toHaveLength(1);
    expect(ruleSet.rules[0]).toMatchObject({
      name: "Approved -> customer",
      trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
      when: { all: [{ field: "priority", op: "eq", value: "High" }] },
      recipients: { fields: ["line_user_id"], ids: [] },
      message: { title: "Order {{order_no}} approved", fields: ["customer", "amount"] },
      buttons: [
        {
          label: "Got it",
          reply: "Thanks, we noted it.",
          writeBack: { set: { ack_status: "Acknowledged" }, timestampField: "ack_at", userField: "ack_by" },
        },
      ],
    });
    expect(ruleSet.rules[0]!.message.recordLink).not.toBe(true);
    const proxyConfigs = ps.pages.proxyConfigs(ps.appId);
    expect(proxyConfigs.map((p) => [p.method, p.url]).sort()).toEqual([
      ["GET", `${ps.stack.relayUrl}/v1/`],
      ["POST", `${ps.stack.relayUrl}/v1/`],
    ]);
    for (const entry of proxyConfigs) expect(entry.headers).toEqual({ Authorization: `Bearer ${secret}`, "X-Relay-App": String(ps.appId) });
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
    for (const entry of ps.pages.proxyConfigs(ps.appId)) expect(entry.headers).toEqual({ Authorization: `Bearer ${secret}`, "X-Relay-App": String(ps.appId) });
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

  it("fields shown: the admin's order is the order in the preview, in the saved rule and in the LINE message", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const labels = ["Customer", "Amount", "Due date", "Notes"];
    const page = await openSettings();
    await page.locator(".kline-rule").waitFor();
    expect(await rowCodes(page, ".kline-field-item")).toEqual(["customer", "amount", "due_date"]);
    await waitFor(async () => (await previewOrder(page, labels)).length === 3, 5_000, "preview rows");
    expect(await previewOrder(page, labels)).toEqual(["Customer", "Amount", "Due date"]);
    // The first row cannot move up, the last cannot move down.
    expect(await page.locator('.kline-field-item[data-code="customer"] .kline-move-up').isDisabled()).toBe(true);
    expect(await page.locator('.kline-field-item[data-code="due_date"] .kline-move-down').isDisabled()).toBe(true);

    await page.locator('.kline-field-item[data-code="due_date"] .kline-move-up').click();
    await page.locator('.kline-field-item[data-code="customer"] .kline-move-down').click();
    expect(await rowCodes(page, ".kline-field-item")).toEqual(["due_date", "customer", "amount"]);
    // Keyboard users keep their place: focus stays on the moved row's button.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.closest("li")?.dataset.code)).toBe("customer");
    expect(await previewOrder(page, labels)).toEqual(["Due date", "Customer", "Amount"]);

    // Removed fields come back to the picker; an added field goes to the end.
    await page.locator('.kline-field-item[data-code="amount"] .kline-field-remove').click();
    expect(await dropdownOptions(page, ".kline-message-field-add")).toContain("Amount (amount)");
    expect(await dropdownOptions(page, ".kline-message-field-add")).not.toContain("Customer (customer)");
    await pickDropdown(page, ".kline-message-field-add", "Notes (notes)");
    expect(await rowCodes(page, ".kline-field-item")).toEqual(["due_date", "customer", "notes"]);
    expect(await previewOrder(page, labels)).toEqual(["Due date", "Customer", "Notes"]);

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    expect(savedRuleSet().rules[0]!.message.fields).toEqual(["due_date", "customer", "notes"]);
    const post = ps.pages.proxyConfigs(ps.appId).find((p) => p.method === "POST")!;
    expect((JSON.parse(post.data.rules!) as RuleSet).rules[0]!.message.fields).toEqual(["due_date", "customer", "notes"]);

    await page.reload();
    await page.locator(".kline-rule").waitFor();
    expect(await rowCodes(page, ".kline-field-item")).toEqual(["due_date", "customer", "notes"]);
    await page.close();

    // The LINE message the relay sends has the rows in that order.
    ps.stack.line.reset();
    const id = ps.addRecord({ order_no: "S-2", customer: "Sato Trading", amount: 1200, due_date: "2026-12-01", notes: "Fragile", line_user_id: USER });
    const record = await browser.newPage();
    await record.goto(ps.recordUrl(id));
    await waitForKintonePage(record);
    await runAction(record, "Approve");
    await waitFor(() => ps.stack.line.pushesTo(USER).length === 1, 10_000, "the push");
    const pushed = JSON.stringify(ps.stack.line.pushesTo(USER)[0]!.messages);
    const at = (text: string) => pushed.indexOf(`"${text}"`);
    expect(at("Due date")).toBeGreaterThan(-1);
    expect(at("Due date")).toBeLessThan(at("Customer"));
    expect(at("Customer")).toBeLessThan(at("Notes"));
    expect(at("Amount")).toBe(-1);
    await record.close();
  });

  it("a button writes back several fields: pairs added and removed, fields limited to text values, errors at the control", async () => {
    const rules = demoRuleSet() as RuleSet;
    // A pair saved earlier for a number field: kept visible, flagged, and not saved as is.
    rules.rules[0]!.buttons[0]!.writeBack!.set = { ack_status: "Acknowledged", amount: "1" };
    ps.configure(rules);
    const before = ps.pages.config(ps.appId);
    const page = await openSettings();
    await page.locator(".kline-rule").waitFor();
    expect(await rowCodes(page, ".kline-wb-pair")).toEqual(["ack_status", "amount"]);
    expect(await page.locator('.kline-wb-pair[data-code="ack_status"] .kline-wb-set-value input').inputValue()).toBe("Acknowledged");

    await clickButton(page, ".kline-save");
    const amountValue = '.kline-wb-pair[data-code="amount"] .kline-wb-set-value';
    await waitFor(async () => (await controlError(page, amountValue)) !== "", 5_000, "the write-back error");
    expect(await controlError(page, amountValue)).toContain('"Amount" cannot take a text value');
    expect(ps.pages.config(ps.appId)).toEqual(before);

    // Only fields that take a text value are offered, each once.
    await page.locator('.kline-wb-pair[data-code="amount"] .kline-wb-set-remove').click();
    const offered = await dropdownOptions(page, ".kline-wb-set-add");
    expect(offered.sort()).toEqual(
      ["(choose a field)", "Acknowledged by (ack_by)", "Customer (customer)", "LINE user ID (line_user_id)", "Notes (notes)", "Order number (order_no)", "Priority (priority)"].sort(),
    );
    // A choice field takes one of its options; a text field takes text.
    await pickDropdown(page, ".kline-wb-set-add", "Priority (priority)");
    const priorityValue = '.kline-wb-pair[data-code="priority"] .kline-wb-set-value';
    expect(await dropdownOptions(page, priorityValue)).toEqual(["(empty)", "High", "Normal", "Low"]);
    expect(await page.locator(`${priorityValue} button[aria-haspopup]`).textContent()).toContain("High");
    await pickDropdown(page, priorityValue, "Low");
    await pickDropdown(page, ".kline-wb-set-add", "Notes (notes)");
    await page.locator('.kline-wb-pair[data-code="notes"] .kline-wb-set-value input').fill("Confirmed on LINE");
    expect(await rowCodes(page, ".kline-wb-pair")).toEqual(["ack_status", "priority", "notes"]);
    expect(await dropdownOptions(page, ".kline-wb-set-add")).not.toContain("Notes (notes)");
    // A pair's field can be changed in place (keeping its position).
    await pickDropdown(page, '.kline-wb-pair[data-code="ack_status"] .kline-wb-set-field', "Customer (customer)");
    await page.locator('.kline-wb-pair[data-code="customer"] .kline-wb-set-value input').fill("Checked");
    expect(await rowCodes(page, ".kline-wb-pair")).toEqual(["customer", "priority", "notes"]);

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    expect(savedRuleSet().rules[0]!.buttons[0]!.writeBack).toEqual({
      set: { customer: "Checked", priority: "Low", notes: "Confirmed on LINE" },
      timestampField: "ack_at",
      userField: "ack_by",
      comment: "Acknowledged on LINE by {{lineName}}",
    });

    // Removing every pair drops `set`; the rest of the write-back stays.
    await page.reload();
    await page.locator(".kline-rule").waitFor();
    expect(await rowCodes(page, ".kline-wb-pair")).toEqual(["customer", "priority", "notes"]);
    for (let i = 0; i < 3; i++) await page.locator(".kline-wb-pair .kline-wb-set-remove").first().click();
    expect(await page.locator(".kline-wb-set-none").isVisible()).toBe(true);
    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    expect(savedRuleSet().rules[0]!.buttons[0]!.writeBack).toEqual({
      timestampField: "ack_at",
      userField: "ack_by",
      comment: "Acknowledged on LINE by {{lineName}}",
    });
    await page.close();
  });

  it("relay down: Test connection says what cannot be reached, where and why; Save still saves", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const secret = appKey();
    const down = "http://127.0.0.1:9";
    const page = await openSettings();
    await page.locator(".kline-rule").waitFor();
    // The admin moves the relay to an address where nothing answers (yet).
    await fillText(page, ".kline-relay-url", down);
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-failed").waitFor();
    const text = (await page.locator(".kline-test-result").textContent()) ?? "";
    expect(text).toContain("The relay cannot be reached");
    expect(text).toContain(`could not connect to ${down}`);
    expect(text).toContain("(connection failed)");
    expect(text).toContain("reachable from the internet");
    expect(text).toContain("You can still save");
    expect(text).not.toMatch(/[{}]|\[object/);

    // Saving does not wait for the relay: it saves, then says the relay will learn the rules later.
    const calls = ps.pages.proxyCalls.length;
    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    await page.locator(".kline-register-result.kline-register-failed").waitFor();
    expect(await page.locator(".kline-register-result").textContent()).toContain("the relay will learn them on the next record action");
    const tried = ps.pages.proxyCalls.slice(calls);
    expect(tried.map((c) => [c.api, c.method, c.url, c.status])).toEqual([["kintone.proxy", "PUT", `${down}/v1/apps/${ps.appId}/rules`, 0]]);
    expect(ps.pages.config(ps.appId).relayUrl).toBe(down);
    const configs = ps.pages.proxyConfigs(ps.appId).filter((p) => p.url === `${down}/v1/`);
    expect(configs.map((p) => p.method).sort()).toEqual(["GET", "POST"]);
    for (const entry of configs) expect(entry.headers).toEqual({ Authorization: `Bearer ${secret}`, "X-Relay-App": String(ps.appId) });
    // The secret left the old address.
    for (const entry of ps.pages.proxyConfigs(ps.appId).filter((p) => p.url === `${ps.stack.relayUrl}/v1/`)) {
      expect(entry.headers).toEqual({});
    }
    expect(await page.evaluate(() => document.body.innerText)).not.toContain(secret);
    await page.close();
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

  it("Test connection tests what is on screen, through kintone.proxy: the saved or typed secret, the rules being edited", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const secret = appKey();
    const pingCalls = () => ps.pages.proxyCalls.filter((c) => c.url === `${ps.stack.relayUrl}/v1/ping`);
    const refusedBefore = ps.pages.refusedCalls.length;
    const page = await openSettings();
    await page.locator(".kline-rule").waitFor();

    // Nothing typed: the saved secret (getProxyConfig) goes with the rules on screen.
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-ok").waitFor();
    expect(await page.locator(".kline-test-result").textContent()).toContain("Connected to relay 0.1.0");
    expect(await page.locator(".kline-test-result").textContent()).toContain("(1 rule)");
    const saved = pingCalls().at(-1)!;
    expect(saved).toMatchObject({ api: "kintone.proxy", page: "config", method: "POST", status: 200 });
    expect(saved.headers).toMatchObject({ Authorization: `Bearer ${secret}`, "X-Relay-App": String(ps.appId) });

    // A wrong typed secret: the relay refuses it, and the page says the secret is wrong.
    await clickButton(page, ".kline-secret-replace");
    await page.locator("#kline-secret-input").fill("not-the-relay-secret-0123");
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-failed").waitFor();
    expect(await page.locator(".kline-test-result").textContent()).toContain("The app key is wrong");
    expect(pingCalls().at(-1)).toMatchObject({ status: 401, headers: { Authorization: "Bearer not-the-relay-secret-0123" } });

    // Another app's key: the relay refuses it for this app (403), and the page says whose it is not.
    await page.locator("#kline-secret-input").fill(appKey(ps.appId + 1));
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-failed").waitFor();
    expect(await page.locator(".kline-test-result").textContent()).toContain(`The key belongs to another app: the relay refused it for app ${ps.appId} (403`);
    expect(pingCalls().at(-1)).toMatchObject({ status: 403, headers: { Authorization: `Bearer ${appKey(ps.appId + 1)}`, "X-Relay-App": String(ps.appId) } });

    // The right secret, and a rule on screen the relay refuses: its path and the relay's words.
    await page.locator("#kline-secret-input").fill(secret);
    await fillText(page, ".kline-message-title", "");
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-warn").waitFor();
    const warned = (await page.locator(".kline-test-result").textContent()) ?? "";
    expect(warned).toContain("does not accept the rules on screen");
    expect(warned).toContain("rules[0].message.title: must not be empty");
    const sent = JSON.parse(pingCalls().at(-1)!.body!) as { rules: string };
    expect((JSON.parse(sent.rules) as RuleSet).rules[0]!.message.title).toBe("");

    // Fixed on screen: connected, with the relay's version.
    await fillText(page, ".kline-message-title", "Order {{order_no}} approved");
    await clickButton(page, ".kline-test");
    await page.locator(".kline-test-ok").waitFor();
    const ok = JSON.parse(pingCalls().at(-1)!.body!) as { rules: string };
    expect((JSON.parse(ok.rules) as RuleSet).rules[0]!.message.title).toBe("Order {{order_no}} approved");

    // kintone.plugin.app.proxy is not offered here: none was made, none refused, no page error.
    expect(ps.pages.proxyCalls.filter((c) => c.page === "config" && c.api === "kintone.plugin.app.proxy")).toEqual([]);
    expect(ps.pages.refusedCalls.slice(refusedBefore)).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("the page emulator offers each API only where kintone does: plugin.app.proxy throws on the settings page", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const before = ps.pages.refusedCalls.length;
    const page = await openSettings();
    const thrown = await page.evaluate(() => {
      const k = (window as unknown as { kintone: { $PLUGIN_ID: string; plugin: { app: { proxy(...args: unknown[]): unknown } } } }).kintone;
      try {
        k.plugin.app.proxy(k.$PLUGIN_ID, "http://127.0.0.1:9/v1/ping", "POST", {}, {});
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(thrown).toContain("not available on this page");
    await waitFor(() => ps.pages.refusedCalls.length > before, 5_000, "the refused call");
    expect(ps.pages.refusedCalls.slice(before)).toMatchObject([{ api: "kintone.plugin.app.proxy", page: "config", appId: ps.appId }]);
    await page.close();

    // On a record page getProxyConfig returns null (kintone's documented answer), and is noted.
    const id = ps.addRecord({ order_no: "S-9" });
    const record = await browser.newPage();
    await record.goto(ps.recordUrl(id));
    await waitForKintonePage(record);
    const config = await record.evaluate(() =>
      (window as unknown as { kintone: { plugin: { app: { getProxyConfig(u: string, m: string): unknown } } } }).kintone.plugin.app.getProxyConfig(
        "http://127.0.0.1/v1/",
        "POST",
      ),
    );
    expect(config).toBeNull();
    await waitFor(() => ps.pages.refusedCalls.some((c) => c.api === "kintone.plugin.app.getProxyConfig"), 5_000, "the refused call");
    await record.close();
    ps.pages.refusedCalls.length = 0;
  });

  it("Save registers the rule set with the relay: what it stores is what was on screen", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const page = await openSettings();
    await page.locator(".kline-rule").waitFor();
    await fillText(page, ".kline-rule-name", "Registered on save");
    await fillText(page, ".kline-message-title", "Order {{order_no}} is on its way");
    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    await page.locator(".kline-register-result.kline-registered").waitFor();
    expect(await page.locator(".kline-register-result").textContent()).toMatch(/The relay has these rules \(version \d+\)/);

    const response = await fetch(`${ps.stack.relayUrl}/v1/apps/${ps.appId}/rules`, {
      headers: { authorization: `Bearer ${ps.stack.relaySecret}` },
    });
    expect(response.status).toBe(200);
    const stored = (await response.json()) as { appId: string; version: number; rules: string };
    const onScreen = ps.pages.config(ps.appId).ruleSet!;
    expect(stored.appId).toBe(String(ps.appId));
    expect(JSON.parse(stored.rules)).toEqual(JSON.parse(onScreen));
    expect((JSON.parse(stored.rules) as RuleSet).rules[0]).toMatchObject({
      name: "Registered on save",
      message: { title: "Order {{order_no}} is on its way" },
    });
    // It went through kintone.proxy with the saved secret, after setConfig and setProxyConfig.
    const put = ps.pages.proxyCalls.filter((c) => c.method === "PUT").at(-1)!;
    expect(put).toMatchObject({ api: "kintone.proxy", page: "config", url: `${ps.stack.relayUrl}/v1/apps/${ps.appId}/rules`, status: 200 });
    expect(put.headers).toMatchObject({ Authorization: `Bearer ${appKey()}`, "X-Relay-App": String(ps.appId) });
    expect(JSON.parse(put.body!)).toEqual({ rules: onScreen });
    expect(ps.pages.proxyCalls.filter((c) => c.page === "config" && c.api === "kintone.plugin.app.proxy")).toEqual([]);
    await page.close();
  });

  it("speaks Japanese to a Japanese admin", async () => {
    ps.pages.loginUser.language = "ja";
    try {
      const page = await openSettings();
      expect(await page.locator(".kline-title").textContent()).toBe("LINE通知");
      expect(await page.locator(".kline-save").textContent()).toContain("保存");
      expect(await page.locator(".kline-test").textContent()).toContain("接続テスト");
      await fillText(page, ".kline-relay-url", ps.stack.relayUrl);
      const replace = page.locator(".kline-secret-replace");
      if (await replace.isVisible()) await clickButton(page, ".kline-secret-replace");
      await page.locator("#kline-secret-input").fill("not-the-relay-secret-0123");
      await clickButton(page, ".kline-test");
      await page.locator(".kline-test-failed").waitFor();
      expect(await page.locator(".kline-test-result").textContent()).toContain("アプリキーが正しくありません");
      expect(await page.locator(".kline-key-howto").textContent()).toContain(`「npm run app-key -- ${ps.appId}」で発行します`);
      await page.locator("#kline-secret-input").fill(appKey(ps.appId + 1));
      await clickButton(page, ".kline-test");
      await page.locator(".kline-test-failed").waitFor();
      expect(await page.locator(".kline-test-result").textContent()).toContain("このキーは別のアプリのものです");
      await page.close();
    } finally {
      ps.pages.loginUser.language = "en";
    }
    expect(browser.pageErrors).toEqual([]);
  });
});
