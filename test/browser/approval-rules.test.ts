/**
 * Approval rules made on the settings page (issue 13), by an admin whose kintone is in Japanese:
 * a rule to the record's assignees with a 「承認」 button that takes the app's process action as
 * the tapping user and asks for a reason first. The app's actions come from kintone's process
 * settings; the shared validator's mistakes show at their controls; the preview shows the button
 * the relay's builder makes; Save registers exactly that rule set with the relay. In an app
 * without process management the assignee and step options are disabled, and the page says why.
 * axe finds no WCAG A/AA violation. Screenshots: /tmp/approval-rules-ja*.png.
 */
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFlexMessage } from "../../common/flex/build-flex-message.js";
import { RULE_PROBLEM_CATALOGUE } from "../../common/i18n/rule-problems.js";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { DEMO_FIELDS } from "../../emulators/demo-app.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, startPageStack } from "./browser-harness.js";
import { clickButton, controlError, dropdownOptions, fillText, pickDropdown, toggleChoice } from "./kuc-driver.js";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SCREENSHOT = "/tmp/approval-rules-ja.png";

/** A Japanese approval process: the app's actions as kintone's process settings name them. */
const PROCESS = {
  enable: true,
  states: ["未処理", "承認待ち", "承認済み", "差し戻し"],
  actions: [
    { name: "申請する", from: "未処理", to: "承認待ち" },
    { name: "承認する", from: "承認待ち", to: "承認済み" },
    { name: "差し戻す", from: "承認待ち", to: "差し戻し" },
  ],
};

interface AxeViolation {
  id: string;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's WCAG 2.x A and AA rules on the page as it is now: the violations, described. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations;
  });
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.help}) at ${n.target.join(" ")}: ${n.failureSummary ?? ""}`));
}

let browser: Browser;
let ps: PageStack;

beforeAll(async () => {
  const zip = await ensurePluginBuilt();
  ps = await startPageStack(zip, { language: "ja", stack: { process: PROCESS } });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ps?.close();
});

async function openSettings(on: PageStack): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(on.settingsUrl());
  await page.locator(".kline-rule-add").waitFor();
  return page;
}

/** Ticks (or unticks) the KUC checkbox item with this label. */
async function tick(page: Page, control: string, label: string): Promise<void> {
  await page.locator(control).locator("label", { hasText: label }).click();
}

async function isDisabled(page: Page, control: string, label: string): Promise<boolean> {
  const id = await page.locator(control).locator("label", { hasText: label }).getAttribute("for");
  return page.locator(`${control} input[id="${id}"]`).isDisabled();
}

describe("approval rules on the settings page (kintone in Japanese)", () => {
  it("a rule to the assignees with a 「承認」 button taking the process action, asking a reason: checked, previewed, saved and registered", async () => {
    const recordId = ps.addRecord({ order_no: "A-7", customer: "山田商事", amount: "128000" });
    const page = await openSettings(ps);
    await fillText(page, ".kline-relay-url", ps.stack.relayUrl);
    await page.locator("#kline-secret-input").fill(deriveAppKey(ps.stack.relaySecret, String(ps.appId)));

    await clickButton(page, ".kline-rule-add");
    // No rule reaches kintone users yet: no note about connecting.
    expect(await page.locator(".kline-approval-note").isHidden()).toBe(true);
    await fillText(page, ".kline-rule-name", "承認のお願い");
    await toggleChoice(page, ".kline-trigger-actions", "申請する");
    await fillText(page, ".kline-message-title", "{{order_no}}の承認をお願いします");
    await pickDropdown(page, ".kline-message-field-add", "Customer (customer)");
    await pickDropdown(page, ".kline-message-field-add", "Amount (amount)");

    // Nobody to send to: the shared validator's words, at the recipients, once Save was tried.
    await clickButton(page, ".kline-save");
    const recipientsError = page.locator('.kline-error-line[data-error-path="rules.0.recipients"]');
    await waitFor(async () => ((await recipientsError.textContent()) ?? "") !== "", 5_000, "the recipients error");
    expect(await recipientsError.textContent()).toBe(RULE_PROBLEM_CATALOGUE.ja.noRecipients);
    expect(ps.pages.config(ps.appId).ruleSet).toBeUndefined();
    // The admin closes the "nothing was saved" notice.
    await page.locator('[class*="notification__close-button"]').first().click();

    // The record's assignees: the error goes, the note about connecting LINE appears.
    expect(await isDisabled(page, ".kline-recipient-assignees", "レコードの作業者")).toBe(false);
    await tick(page, ".kline-recipient-assignees", "レコードの作業者（LINEと連携済みの人）");
    await waitFor(async () => (await recipientsError.isHidden()) || ((await recipientsError.textContent()) ?? "") === "", 5_000, "the recipients error to go");
    const note = page.locator(".kline-approval-note");
    await note.waitFor();
    const noteText = (await note.textContent()) ?? "";
    expect(noteText).toContain("「connect」と送信");
    expect(noteText).toContain("「配信状況」タブに「LINE未連携のため未送信」と表示されます");
    expect(noteText).toContain("docs/approvals.md");
    expect(noteText).toContain("対象のルール：「承認のお願い」");

    // A button 「承認」 that takes the step: the app's actions, with the status each moves.
    await clickButton(page, ".kline-button-add");
    await fillText(page, ".kline-button-id", "approve");
    await fillText(page, ".kline-button-label", "承認");
    await page.locator(".kline-button-kind label", { hasText: "タップした人としてプロセスを進める" }).click();
    await page.locator(".kline-button-step").waitFor();
    // Writing back is put aside while the button takes a step.
    expect(await page.locator(".kline-wb-set-add").count()).toBe(0);
    expect(await dropdownOptions(page, ".kline-button-step")).toEqual([
      "（アクションを選択）",
      "申請する（未処理 → 承認待ち）",
      "承認する（承認待ち → 承認済み）",
      "差し戻す（承認待ち → 差し戻し）",
    ]);
    // No action chosen yet: said at the action picker (Save was tried, so errors show everywhere).
    await waitFor(async () => (await controlError(page, ".kline-button-step")) !== "", 5_000, "the action error");
    await pickDropdown(page, ".kline-button-step", "承認する（承認待ち → 承認済み）");
    await tick(page, ".kline-button-ask-reason", "先に理由を尋ねる");
    await fillText(page, ".kline-button-reply", "承認しました。ありがとうございます。");
    await waitFor(async () => (await controlError(page, ".kline-button-step")) === "", 5_000, "the action error to go");

    // The preview: the relay's builder, with the 「承認」 button.
    const bubble = page.locator(".kline-preview .kline-flex-bubble");
    await waitFor(async () => ((await bubble.textContent()) ?? "").includes("承認"), 5_000, "the preview");
    expect(await bubble.textContent()).toContain("A-7の承認をお願いします");
    const previewButtons = (await page.locator(".kline-preview .kline-flex-button").allTextContents()).map((t) => t.trim());
    expect(previewButtons).toEqual(["承認"]);
    expect(await page.locator(".kline-problem-summary").isHidden()).toBe(true);

    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.locator(".kline-rule").first().screenshot({ path: SCREENSHOT.replace(".png", "-rule.png") });

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    await page.locator(".kline-registered").waitFor({ timeout: 10_000 });

    // What the relay keeps is exactly this rule set.
    const stored = await fetch(`${ps.stack.relayUrl}/v1/apps/${ps.appId}/rules`, {
      headers: { authorization: `Bearer ${ps.stack.relaySecret}` },
    });
    expect(stored.status).toBe(200);
    const ruleSet = JSON.parse(((await stored.json()) as { rules: string }).rules) as RuleSet;
    expect(ruleSet).toEqual({
      version: 1,
      timeZone: "Asia/Tokyo",
      language: "ja",
      rules: [
        {
          id: "r1",
          name: "承認のお願い",
          trigger: { actions: ["申請する"], from: [], to: [] },
          recipients: { fields: [], ids: [], assignees: true },
          message: { title: "{{order_no}}の承認をお願いします", fields: ["customer", "amount"] },
          buttons: [{ id: "approve", label: "承認", action: "承認する", askReason: true, reply: "承認しました。ありがとうございます。" }],
        },
      ],
    });
    expect(JSON.parse(ps.pages.config(ps.appId).ruleSet ?? "null")).toEqual(ruleSet);

    // The relay's message from the stored rule: the same buttons, in the same order, as the preview.
    const sent = buildFlexMessage({
      rule: ruleSet.rules[0]!,
      record: ps.stack.kintone.getRecord(ps.appId, recordId),
      fields: DEMO_FIELDS,
      change: { action: "申請する", status: "未処理", nextStatus: "承認待ち" },
      recordUrl: `${ps.stack.kintoneUrl}/k/${ps.appId}/show#record=${recordId}`,
      postbackData: (button) => `x:${button.id}`,
      timeZone: "Asia/Tokyo",
      locale: "ja",
    });
    const footer = JSON.stringify(sent.contents.footer ?? {});
    const labels = [...footer.matchAll(/"label":"([^"]+)"/g)].map((m) => m[1]);
    expect(labels).toEqual(previewButtons);

    // Opened again: the saved rule shows as it was made.
    await page.reload();
    await page.locator(".kline-button-step").waitFor();
    expect(await page.locator(".kline-button-step button[aria-haspopup]").textContent()).toContain("承認する（承認待ち → 承認済み）");
    expect(await page.locator(".kline-recipient-assignees input").isChecked()).toBe(true);
    expect(await page.locator(".kline-button-ask-reason input").isChecked()).toBe(true);
    await page.close();
  }, 120_000);

  it("an app without process management: assignees and steps are disabled with the reason, a saved step is flagged in the relay's words", async () => {
    // The same app with process management turned off in its settings.
    const plain = await startPageStack(await ensurePluginBuilt(), { language: "ja", stack: { process: { ...PROCESS, enable: false } } });
    try {
      await withoutProcessManagement(plain);
    } finally {
      await plain.close();
    }
    expect(browser.pageErrors).toEqual([]);
  }, 120_000);
});

async function withoutProcessManagement(plain: PageStack): Promise<void> {
  const page = await openSettings(plain);
  await clickButton(page, ".kline-rule-add");
  expect(await isDisabled(page, ".kline-recipient-assignees", "レコードの作業者")).toBe(true);
  expect(await page.locator(".kline-process-off").textContent()).toBe(
    "このアプリではプロセス管理が無効なため、レコードに作業者がいません。作業者に送るには、アプリの設定でプロセス管理を有効にしてください。",
  );
  // kintone users by login name need no process management.
  await fillText(page, ".kline-recipient-users", "sato、suzuki");
  expect(await page.locator(".kline-approval-note").isVisible()).toBe(true);

  await clickButton(page, ".kline-button-add");
  expect(await isDisabled(page, ".kline-button-kind", "タップした人としてプロセスを進める")).toBe(true);
  expect(await page.locator(".kline-step-unavailable").textContent()).toBe(
    "このアプリではプロセス管理が無効なため、実行できるアクションがありません。使うには、アプリの設定でプロセス管理を有効にしてください。",
  );
  expect(await axeViolations(page)).toEqual([]);
  await page.screenshot({ path: SCREENSHOT.replace(".png", "-no-process.png"), fullPage: true });
  await page.close();

  // A rule saved before process management was turned off: its values stay, with the validator's words.
  plain.pages.saveConfig(plain.appId, {
    relayUrl: plain.stack.relayUrl,
    ruleSet: JSON.stringify({
      version: 1,
      rules: [
        {
          id: "r1",
          trigger: { actions: [], from: [], to: [] },
          recipients: { fields: [], ids: [], assignees: true, users: ["sato"] },
          message: { title: "承認のお願い", fields: [] },
          buttons: [{ id: "ok", label: "承認", action: "承認する" }],
        },
      ],
    }),
  });
  const again = await openSettings(plain);
  expect(await again.locator(".kline-recipient-users input").inputValue()).toBe("sato");
  await clickButton(again, ".kline-save");
  await waitFor(async () => (await controlError(again, ".kline-button-step")) !== "", 5_000, "the process error at the action");
  expect(await controlError(again, ".kline-button-step")).toBe(RULE_PROBLEM_CATALOGUE.ja.processManagementOff);
  expect(await controlError(again, ".kline-recipient-assignees")).toBe(RULE_PROBLEM_CATALOGUE.ja.processManagementOff);
  // Unticking the assignees (still possible) and writing back instead clears both.
  await tick(again, ".kline-recipient-assignees", "レコードの作業者");
  await again.locator(".kline-button-kind label", { hasText: "レコードに書き込む" }).click();
  await waitFor(async () => (await controlError(again, ".kline-recipient-assignees")) === "", 5_000, "the assignee error to go");
  expect(await again.locator(".kline-button-step").count()).toBe(0);
  expect(await isDisabled(again, ".kline-button-kind", "タップした人としてプロセスを進める")).toBe(true);
  await again.close();
}
