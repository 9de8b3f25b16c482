/**
 * Record detail page (PC), the plugin loaded from dist/plugin.zip, the real relay and emulators
 * behind the kintone page emulator: what a process-management action causes.
 */
import { Hono } from "hono";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { listen } from "../../emulators/listen.js";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { waitFor } from "../helpers/start-stack.js";
import type { Browser, PageStack } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser, runAction, startPageStack, waitForKintonePage } from "./browser-harness.js";

const USER = `U${"a1".repeat(16)}`;
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

async function openRecord(values: Record<string, unknown> = {}): Promise<{ page: Page; id: string }> {
  const id = ps.addRecord({ order_no: `A-${Date.now() % 100000}`, customer: "Tanaka", amount: "1200", line_user_id: USER, ...values });
  const page = await browser.newPage();
  await page.goto(ps.recordUrl(id));
  await waitForKintonePage(page);
  return { page, id };
}

const notificationCalls = (recordId: string) =>
  ps.pages.proxyCalls.filter((c) => c.method === "POST" && c.url.endsWith("/v1/notifications") && c.body?.includes(`"recordId":"${recordId}"`));

function blockingRuleSet(): RuleSet {
  const set = demoRuleSet() as RuleSet;
  return { version: 1, rules: set.rules.map((rule) => ({ ...rule, blockOnFailure: true })) };
}

/** The key the settings page saved for the demo app (npm run app-key -- <appId>). */
const appKey = () => deriveAppKey(ps.stack.relaySecret, String(ps.appId));

describe("process-management actions on the record page", () => {
  it("a matching action sends one notification through the proxy, with the saved secret and rules injected, and one push", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    ps.stack.line.reset();
    const { page, id } = await openRecord({ order_no: "A-100" });

    const result = await runAction(page, "Approve");
    expect(result).toEqual({ cancelled: false, status: "Approved" });

    const calls = notificationCalls(id);
    expect(calls).toHaveLength(1);
    const sent = JSON.parse(calls[0]!.body!) as Record<string, unknown>;
    expect(sent).toEqual({
      appId: String(ps.appId),
      recordId: id,
      action: "Approve",
      status: "Submitted",
      nextStatus: "Approved",
      rules: JSON.stringify(demoRuleSet()),
    });
    // The app's own key and app, from the proxy config the settings page saved.
    expect(calls[0]!.headers).toMatchObject({ Authorization: `Bearer ${appKey()}`, "X-Relay-App": String(ps.appId) });
    expect(calls[0]!.status).toBe(202);

    const pushes = await waitFor(() => ps.stack.line.pushesTo(USER).length > 0 && ps.stack.line.pushesTo(USER), 10_000, "the push");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ps.stack.line.pushesTo(USER)).toHaveLength(1);
    expect(JSON.stringify(pushes[0]!.messages)).toContain("Order A-100 approved");
    expect(await page.locator(".kline-notice").count()).toBe(0);
    await page.close();
  });

  it("a non-matching action makes no notification request: the only proxy traffic is the panel re-reading deliveries", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const { page, id } = await openRecord();
    const before = ps.pages.proxyCalls.length;

    const result = await runAction(page, "Reject");
    expect(result).toEqual({ cancelled: false, status: "Rejected" });

    const during = ps.pages.proxyCalls.slice(before);
    expect(notificationCalls(id)).toHaveLength(0);
    expect(during.every((c) => c.method === "GET" && c.url.endsWith(`/v1/records/${ps.appId}/${id}/deliveries`))).toBe(true);
    expect(during.filter((c) => c.method !== "GET")).toHaveLength(0);
    await page.close();
  });

  it("relay down: the action still completes, and the user sees a short notice", async () => {
    ps.configure(demoRuleSet() as RuleSet, { relayUrl: "http://127.0.0.1:9" });
    const { page, id } = await openRecord();

    const result = await runAction(page, "Approve");
    expect(result).toEqual({ cancelled: false, status: "Approved" });
    expect(statusOf(ps, id)).toBe("Approved");
    const notice = page.locator(".kline-notice");
    await notice.waitFor({ timeout: 5_000 });
    expect(await notice.textContent()).toContain("LINE notification could not be sent");
    expect(await page.locator("#emu-error").textContent()).toBe("");
    await page.close();
  });

  it("a relay that does not answer holds the action for about 5 s at most, then it completes with the notice", async () => {
    const slow = new Hono();
    slow.post("/v1/notifications", async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 9_000));
      return c.json({ id: "late" }, 202);
    });
    const server = await listen(slow);
    try {
      ps.configure(demoRuleSet() as RuleSet, { relayUrl: server.url });
      const { page, id } = await openRecord();
      const started = Date.now();
      const result = await runAction(page, "Approve");
      const waited = Date.now() - started;
      expect(result).toEqual({ cancelled: false, status: "Approved" });
      expect(waited).toBeGreaterThanOrEqual(4_500);
      expect(waited).toBeLessThan(7_000);
      expect(await page.locator(".kline-notice").textContent()).toContain("the relay did not answer within 5 s");
      expect(statusOf(ps, id)).toBe("Approved");
      await page.close();
    } finally {
      await server.close();
    }
  });

  it("what a user sends through the proxy from the console cannot replace the saved secret or rules", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const { page, id } = await openRecord();
    const forged = JSON.stringify({ version: 1, rules: [] });
    const [, status] = await page.evaluate(
      ([url, recordId, rules]) => {
        const k = (window as unknown as {
          kintone: { $PLUGIN_ID: string; plugin: { app: { proxy(...args: unknown[]): Promise<[string, number]> } } };
        }).kintone;
        return k.plugin.app.proxy(k.$PLUGIN_ID, url, "POST", { Authorization: "Bearer forged", "Content-Type": "application/json" }, {
          appId: "1", recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules,
        });
      },
      [`${ps.stack.relayUrl}/v1/notifications`, id, forged] as const,
    );
    expect(status).toBe(202);
    const call = notificationCalls(id).at(-1)!;
    expect(call.headers).toMatchObject({ Authorization: `Bearer ${appKey()}`, "X-Relay-App": String(ps.appId) });
    expect((JSON.parse(call.body!) as { rules: string }).rules).toBe(JSON.stringify(demoRuleSet()));
    await page.close();
  });

  it("a user cannot reach another app from the console: X-Relay-App is kintone's saved one, and the relay refuses app 2 (403), storing nothing", async () => {
    ps.configure(demoRuleSet() as RuleSet);
    const { page, id } = await openRecord();
    const notificationsBefore = (ps.stack.store.db.prepare("SELECT count(*) AS n FROM notifications").get() as { n: number }).n;
    const [body, status] = await page.evaluate(
      ([url, recordId]) => {
        const k = (window as unknown as {
          kintone: { $PLUGIN_ID: string; plugin: { app: { proxy(...args: unknown[]): Promise<[string, number]> } } };
        }).kintone;
        return k.plugin.app.proxy(k.$PLUGIN_ID, url, "POST", { "X-Relay-App": "2", "Content-Type": "application/json" }, {
          appId: "2", recordId, action: "Approve", status: "Submitted", nextStatus: "Approved",
        });
      },
      [`${ps.stack.relayUrl}/v1/notifications`, id] as const,
    );
    expect(status).toBe(403);
    expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe("wrong_app");
    expect(notificationCalls(id).at(-1)!.headers).toMatchObject({ "X-Relay-App": String(ps.appId) });
    expect((ps.stack.store.db.prepare("SELECT count(*) AS n FROM notifications").get() as { n: number }).n).toBe(notificationsBefore);
    await page.close();
  });

  it("a blocking rule refuses the action with the reason when the relay is down", async () => {
    ps.configure(blockingRuleSet(), { relayUrl: "http://127.0.0.1:9" });
    const { page, id } = await openRecord();

    const result = await runAction(page, "Approve");
    expect(result.cancelled).toBe(true);
    expect(result.error).toContain("the action was not run");
    expect(await page.locator("#emu-error").textContent()).toContain("the action was not run");
    expect(statusOf(ps, id)).toBe("Submitted");
    await page.close();
  });

  it("a blocking rule refuses the action when the relay refuses the notification (wrong secret)", async () => {
    ps.configure(blockingRuleSet(), { secret: "not-the-relay-secret" });
    const { page, id } = await openRecord();

    const result = await runAction(page, "Approve");
    expect(result.cancelled).toBe(true);
    expect(notificationCalls(id).map((c) => c.status)).toEqual([401]);
    expect(statusOf(ps, id)).toBe("Submitted");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });
});

function statusOf(stack: PageStack, recordId: string): string {
  const record = stack.stack.kintone.getRecord(stack.appId, recordId);
  const status = Object.values(record).find((f) => f.type === "STATUS");
  return String(status?.value ?? "");
}
