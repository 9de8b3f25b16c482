/**
 * Issue 14 end to end, in Chromium with Japanese fonts: a ja admin (and an en admin) builds a
 * rule in their language, the preview and the LINE push are in it; a mistake is shown at its
 * control before Save and the relay refuses it with the same words; "Send a test message"
 * reaches the LINE emulator; axe finds no WCAG A/AA violation on the settings and record pages.
 * Screenshots go to /tmp/kline-*.png.
 */
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, runAction, startPageStack, waitForKintonePage } from "./browser-harness.js";
import { clickButton, controlError, fillText, toggleChoice } from "./kuc-driver.js";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

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

const CASES = {
  ja: {
    ruleName: "承認したらお客様へ",
    title: "ご注文 {{order_no}} を承認しました",
    label: "確認しました",
    typo: "ご注文 {{no_such_field}} を承認しました",
    // What the admin's language makes of the preview: the status line's action and the alt text.
    previewAlt: "ご注文 B-1 を承認しました",
    alt: (order: string) => `ご注文 ${order} を承認しました`,
    saved: "アプリを更新",
    sent: "受け付けました",
    removed: "元に戻す",
  },
  en: {
    ruleName: "Approved -> customer",
    title: "Order {{order_no}} approved",
    label: "Got it",
    typo: "Order {{no_such_field}} approved",
    previewAlt: "Order B-1 approved",
    alt: (order: string) => `Order ${order} approved`,
    saved: "Update App",
    sent: "LINE accepted the message",
    removed: "Undo",
  },
} as const;

const CUSTOMER = `U${"d4".repeat(16)}`;
const TESTER = `U${"e5".repeat(16)}`;

describe.each(["ja", "en"] as const)("an admin whose kintone language is %s", (language) => {
  const c = CASES[language];
  let browser: Browser;
  let ps: PageStack;

  beforeAll(async () => {
    const zip = await ensurePluginBuilt();
    ps = await startPageStack(zip, { language });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ps?.close();
  });

  it("builds a rule in their language: preview, mistakes (same words as the relay), Save + Update App reminder, test message, record action, axe", async () => {
    const sample = ps.addRecord({ order_no: "B-1", customer: "さくら商店", line_user_id: CUSTOMER });
    const page = await browser.newPage();
    await page.goto(ps.settingsUrl());
    await page.locator(".kline-rule-add").waitFor();

    await fillText(page, ".kline-relay-url", ps.stack.relayUrl);
    await page.locator("#kline-secret-input").fill(deriveAppKey(ps.stack.relaySecret, String(ps.appId)));
    await clickButton(page, ".kline-rule-add");
    await fillText(page, ".kline-rule-name", c.ruleName);
    await toggleChoice(page, ".kline-trigger-actions", "Approve");
    await toggleChoice(page, ".kline-trigger-to", "Approved");
    await toggleChoice(page, ".kline-recipient-fields", "(line_user_id)");

    // A placeholder typo: shown at its control before Save, in the admin's language...
    await fillText(page, ".kline-message-title", c.typo);
    await waitFor(async () => (await controlError(page, ".kline-message-title")) !== "", 5_000, "the typo at its control");
    const shown = await controlError(page, ".kline-message-title");
    expect(shown).toContain("{{no_such_field}}");
    // ...listed in the summary at the top...
    expect(await page.locator(".kline-problem-summary").textContent()).toContain(shown);
    // ...and the relay refuses the same rule set with the same words.
    const refusedRules: RuleSet = {
      version: 1,
      language,
      rules: [
        {
          id: "r1",
          trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
          recipients: { fields: ["line_user_id"], ids: [] },
          message: { title: c.typo, fields: [] },
          buttons: [],
        },
      ],
    };
    // The relay checks placeholders against the app's form when it sends; the test message does it now.
    const refused = await fetch(`${ps.stack.relayUrl}/v1/apps/${ps.appId}/test-message`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${deriveAppKey(ps.stack.relaySecret, String(ps.appId))}`,
        "x-relay-app": String(ps.appId),
      },
      body: JSON.stringify({ ruleId: "r1", recordId: sample, to: TESTER, rules: JSON.stringify(refusedRules) }),
    });
    expect(refused.status).toBe(400);
    const refusal = (await refused.json()) as { error: { details: { path: string; message: string; ja?: string }[] } };
    const words = refusal.error.details.map((d) => (language === "ja" ? d.ja : d.message));
    expect(words).toContain(shown);

    // A malformed fixed LINE ID: refused by PUT /v1/apps/{id}/rules with the words shown at the control.
    await fillText(page, ".kline-recipient-ids", "hello");
    await waitFor(async () => (await controlError(page, ".kline-recipient-ids")) !== "", 5_000, "the ID error at its control");
    const idError = await controlError(page, ".kline-recipient-ids");
    const put = await fetch(`${ps.stack.relayUrl}/v1/apps/${ps.appId}/rules`, {
      method: "PUT",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${deriveAppKey(ps.stack.relaySecret, String(ps.appId))}`,
        "x-relay-app": String(ps.appId),
      },
      body: JSON.stringify({ rules: JSON.stringify({ ...refusedRules, rules: [{ ...refusedRules.rules[0], message: { title: "x", fields: [] }, recipients: { fields: [], ids: ["hello"] } }] }) }),
    });
    expect(put.status).toBe(400);
    const putRefusal = (await put.json()) as { error: { details: { message: string; ja?: string }[] } };
    // The control holds the list of IDs; its error names which entry ("0: ...") and then the relay's words.
    expect(putRefusal.error.details.map((d) => `0: ${language === "ja" ? d.ja : d.message}`)).toContain(idError);
    await fillText(page, ".kline-recipient-ids", "");

    // The rule as meant: the preview is in the admin's language.
    await fillText(page, ".kline-message-title", c.title);
    await clickButton(page, ".kline-button-add");
    await fillText(page, ".kline-button-label", c.label);
    await waitFor(async () => ((await page.locator(".kline-preview-alt").textContent()) ?? "").includes(c.previewAlt), 5_000, "the preview");
    expect(await page.locator(".kline-preview .kline-flex-bubble").textContent()).toContain(c.label);
    await waitFor(async () => await page.locator(".kline-problem-summary").isHidden(), 5_000, "no problem left");

    await clickButton(page, ".kline-save");
    await page.locator(".kline-status.kline-saved").waitFor();
    await page.locator(".kline-update-app").waitFor();
    expect(await page.locator(".kline-update-app").textContent()).toContain(c.saved);
    const saved = JSON.parse(ps.pages.config(ps.appId).ruleSet ?? "null") as RuleSet;
    expect(saved.language).toBe(language);
    await page.locator(".kline-registered").waitFor();

    // Send a test message: the admin picks the record and a LINE user; the emulator receives the push.
    await fillText(page, ".kline-tm-record", sample);
    await fillText(page, ".kline-tm-to", TESTER);
    await clickButton(page, ".kline-tm-send");
    await page.locator(".kline-tm-result.kline-tm-ok").waitFor();
    expect(await page.locator(".kline-tm-result").textContent()).toContain(c.sent);
    const test = await waitFor(() => ps.stack.line.pushesTo(TESTER)[0], 5_000, "the test push");
    const testBody = test.messages[0] as { altText: string; contents: unknown };
    expect(test.to).toEqual([TESTER]);
    expect(testBody.altText).toBe(c.alt("B-1"));
    expect(JSON.stringify(testBody.contents)).toContain(c.label);

    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: `/tmp/kline-settings-${language}.png`, fullPage: true });

    // Remove rule: not beside the rule ID, and undoable.
    const removeBox = await page.locator(".kline-rule-remove").boundingBox();
    const idBox = await page.locator(".kline-rule-id").boundingBox();
    expect(removeBox && idBox && removeBox.y - idBox.y).toBeGreaterThan(200);
    await clickButton(page, ".kline-rule-remove");
    expect(await page.locator(".kline-rule").count()).toBe(0);
    expect(await page.locator(".kline-undo-box").textContent()).toContain(c.removed);
    await page.locator(".kline-undo").click();
    expect(await page.locator(".kline-rule-name input").inputValue()).toBe(c.ruleName);
    await page.close();

    // A record action: the customer's push is in the rule set's language.
    const order = ps.addRecord({ order_no: "B-2", customer: "さくら商店", line_user_id: CUSTOMER });
    const record = await browser.newPage();
    await record.goto(ps.recordUrl(order));
    await waitForKintonePage(record);
    await runAction(record, "Approve");
    const push = await waitFor(() => ps.stack.line.pushesTo(CUSTOMER)[0], 10_000, "the customer's push");
    expect((push.messages[0] as { altText: string }).altText).toBe(c.alt("B-2"));
    await record.locator(".kline-delivery").first().waitFor();
    expect(await axeViolations(record)).toEqual([]);
    await record.screenshot({ path: `/tmp/kline-record-${language}.png`, fullPage: true });
    await record.close();
  }, 120_000);
});
