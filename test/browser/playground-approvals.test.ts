/**
 * The sandbox playground's approvals scenario in chromium, through the real relay and emulators:
 * the phone sends `connect`, the reply's button opens the relay's connect link in the phone's
 * browser (logged in to kintone as 佐藤 and to LINE as the demo user), kintone's OAuth and LINE's
 * account-link page link the two; staff send an order to review on the record page, the phone
 * gets the message with 承認 / 却下, and a tap takes the step in kintone as 佐藤 with her own token.
 * Screenshots go to /tmp/playground-approvals-*.png.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUEST_APPROVAL, REVIEW_STATUS } from "../../sandbox/demo-data.js";
import { startSandbox, type Sandbox } from "../../sandbox/start-sandbox.js";
import { SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { waitFor } from "../helpers/start-stack.js";
import type { Browser } from "./browser-harness.js";
import { ensurePluginBuilt, launchBrowser } from "./browser-harness.js";

let browser: Browser;
let sandbox: Sandbox;

beforeAll(async () => {
  await ensurePluginBuilt();
  sandbox = await startSandbox({ port: 0, logLevel: "error", say: () => {} });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: `/tmp/playground-approvals-${name}.png` });

async function openPlayground(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(sandbox.playgroundUrl);
  await page.frameLocator("#pg-kintone").locator("#emu-record tr").first().waitFor();
  return page;
}

/** Shows the record on the left, as the links above it do. */
async function showRecord(page: Page, recordId: string): Promise<void> {
  await page.locator(`.pg-nav a[data-record="${recordId}"]`).click();
  await waitFor(() => page.frames().some((f) => f.url().endsWith(`show?record=${recordId}`)), 5_000, `record ${recordId}`);
  await page.frameLocator("#pg-kintone").locator("#emu-record-id", { hasText: recordId }).waitFor();
}

/** Types on the phone and sends, as the user would. */
async function sayOnPhone(page: Page, text: string): Promise<void> {
  await page.locator("#pg-say-input").fill(text);
  await page.locator("#pg-say-input").press("Enter");
  await page.locator(".pg-row-user .pg-text-user", { hasText: text }).last().waitFor();
}

/** The kintone emulator's status calls for a record, with who each acted as and how. */
function statusCalls(recordId: string) {
  return sandbox.kintone.requests
    .filter((r) => r.path === "/k/v1/record/status.json" && String((r.body as { id?: unknown } | undefined)?.id) === recordId)
    .map((r) => ({
      action: (r.body as { action?: string }).action,
      status: r.status,
      actor: r.actor && { method: r.actor.method, user: r.actor.user },
      bearer: /^Bearer \S+$/.test(r.headers.authorization ?? ""),
      apiToken: r.headers["x-cybozu-api-token"] !== undefined,
    }));
}

/** Sends the order to review on the record page and returns the message that reached the phone. */
async function requestApproval(page: Page, record: { id: string; label: string }) {
  await showRecord(page, record.id);
  const frame = page.frameLocator("#pg-kintone");
  await frame.locator(`.emu-action[data-action="${REQUEST_APPROVAL}"]`).click();
  await expect.poll(() => frame.locator("#emu-status").textContent(), { timeout: 10_000 }).toBe(REVIEW_STATUS);
  const bubble = page.locator("#pg-chat .flex-bubble", { hasText: `Order ${record.label} needs your approval` });
  await bubble.waitFor({ timeout: 15_000 });
  return bubble;
}

describe("the playground's approvals scenario", () => {
  it("connect from the phone as 佐藤; Request approval on the record page; 承認 on the phone moves the status as 佐藤, with her token", async () => {
    const page = await openPlayground();
    const phoneNote = (await page.locator("#pg-phone-note").textContent()) ?? "";
    expect(phoneNote).toContain(`${sandbox.manager.name} (${sandbox.manager.code})`);

    // `connect`: the relay's reply is a template with a button, rendered as LINE shows it.
    await sayOnPhone(page, "connect");
    const template = page.locator("#pg-chat .line-template");
    await template.waitFor({ timeout: 10_000 });
    expect(await template.locator(".line-template-text").textContent()).toContain("kintoneのアカウントと連携します");
    const connectButton = template.locator(".line-template-action");
    expect(await connectButton.textContent()).toBe("kintoneと連携する");
    await shot(page, "1-connect-reply");

    // The button opens the phone's browser: kintone's authorization, the relay's callback, LINE's account-link page.
    const [popup] = await Promise.all([page.waitForEvent("popup"), connectButton.click()]);
    await popup.locator("h1", { hasText: "Linked" }).waitFor({ timeout: 10_000 });
    expect(new URL(popup.url()).pathname).toBe("/dialog/bot/accountLink");
    await shot(popup, "2-phone-browser-linked");

    // LINE's accountLink event reached the relay: the link is stored and the phone is told.
    await page.locator(".pg-row-bot .pg-text-bot", { hasText: `「${sandbox.manager.name}」さんとして連携しました` }).waitFor({ timeout: 10_000 });
    const link = await sandbox.relay.store.userLinks.getLinkByLineUser(sandbox.user.id);
    expect(link).toMatchObject({ kintoneUserCode: sandbox.manager.code, lineUserId: sandbox.user.id, state: "active" });
    // kintone saw who connected: the link app's record was added with 佐藤's token.
    const identified = sandbox.kintone.requests.find((r) => r.path === "/k/v1/record.json" && r.method === "POST" && String((r.body as { app?: unknown }).app) === "90");
    expect(identified?.actor).toMatchObject({ method: "oauth", user: sandbox.manager.code });
    await popup.close();

    // The staff (the record page acts as Administrator) send the second order to the manager.
    const order = sandbox.records[1]!;
    const bubble = await requestApproval(page, order);
    const labels = await bubble.locator(".flex-footer button").allTextContents();
    expect(labels).toEqual(expect.arrayContaining(["承認", "却下"]));
    expect(await bubble.textContent()).toContain("Suzuki Foods");
    await shot(page, "3-review-request");

    await bubble.locator(".flex-footer button", { hasText: "承認" }).click();
    await page.locator(".pg-row-user .pg-text-user", { hasText: "承認" }).waitFor();
    await page.locator(".pg-row-bot .pg-text-bot", { hasText: "Done: “Approve” was taken." }).waitFor({ timeout: 15_000 });

    // The record page re-read the record: approved, and the customer's message of the "approved" rule followed.
    const frame = page.frameLocator("#pg-kintone");
    await expect.poll(() => frame.locator("#emu-status").textContent(), { timeout: 10_000 }).toBe("Approved");
    await page.locator("#pg-chat .flex-bubble", { hasText: `Order ${order.label} approved` }).waitFor({ timeout: 15_000 });
    await shot(page, "4-approved");

    // kintone's request log: the staff's call with the API token, 佐藤's with her OAuth token only.
    expect(statusCalls(order.id)).toEqual([
      { action: REQUEST_APPROVAL, status: 200, actor: { method: "apiToken", user: "Administrator" }, bearer: false, apiToken: true },
      { action: "Approve", status: 200, actor: { method: "oauth", user: sandbox.manager.code }, bearer: true, apiToken: false },
    ]);
    const stored = sandbox.kintone.getRecord(sandbox.appId, order.id);
    expect(stored["ステータス"]?.value).toBe("Approved");
    expect(stored["更新者"]?.value).toMatchObject({ code: sandbox.manager.code });
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it("却下 asks for a reason; the reply typed on the phone becomes 佐藤's comment, then the order is rejected", async () => {
    // Linked by the test before (the scenario runs in order, as a user plays it).
    expect((await sandbox.relay.store.userLinks.getLinkByLineUser(sandbox.user.id))?.kintoneUserCode).toBe(sandbox.manager.code);
    const page = await openPlayground();
    const order = sandbox.records[2]!;
    const bubble = await requestApproval(page, order);
    await bubble.locator(".flex-footer button", { hasText: "却下" }).click();
    await page.locator(".pg-row-bot .pg-text-bot", { hasText: "Please send the reason for “Reject”" }).waitFor({ timeout: 15_000 });
    expect(statusCalls(order.id).map((c) => c.action)).toEqual([REQUEST_APPROVAL]);

    const reason = "予算を超えています (over the budget)";
    await sayOnPhone(page, reason);
    await page.locator(".pg-row-bot .pg-text-bot", { hasText: "Done: “Reject” was taken." }).waitFor({ timeout: 15_000 });
    const frame = page.frameLocator("#pg-kintone");
    await expect.poll(() => frame.locator("#emu-status").textContent(), { timeout: 10_000 }).toBe("Rejected");
    const comment = page.locator("#pg-comments .pg-comment", { hasText: reason });
    await comment.waitFor({ timeout: 10_000 });
    expect(await comment.locator(".pg-comment-head").textContent()).toContain(sandbox.manager.name);
    await shot(page, "5-rejected-with-reason");

    expect(sandbox.kintone.comments(sandbox.appId, order.id)).toEqual([
      expect.objectContaining({ text: reason, creator: expect.objectContaining({ code: sandbox.manager.code }) }),
    ]);
    const commentCall = sandbox.kintone.requests.find((r) => r.path === "/k/v1/record/comment.json" && r.effectiveMethod === "POST");
    expect(commentCall?.actor).toMatchObject({ method: "oauth", user: sandbox.manager.code });
    expect(statusCalls(order.id).at(-1)).toEqual({ action: "Reject", status: 200, actor: { method: "oauth", user: sandbox.manager.code }, bearer: true, apiToken: false });
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it("quick replies: chips under the latest text; a message chip sends its text, a postback chip its data; both reach the relay as LINE sends them", async () => {
    const store = sandbox.relay.store;
    if (!(store instanceof SqliteStore)) throw new Error("the sandbox runs on SQLite");
    const push = async (message: unknown) => {
      const response = await sandbox.line.app.request("/v2/bot/message/push", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${sandbox.line.createAccessToken()}` },
        body: JSON.stringify({ to: sandbox.user.id, messages: [message] }),
      });
      // A message LINE accepts: the sandbox's emulator validates against the LINE contract.
      expect(response.status, await response.clone().text()).toBe(200);
    };
    await push({
      type: "text",
      text: "Who should review next?",
      quickReply: {
        items: [
          { type: "action", action: { type: "postback", label: "佐藤 花子", data: "playground-check=choose-sato", displayText: "佐藤 花子さんを選択" } },
          { type: "action", action: { type: "message", label: "Later", text: "later" } },
        ],
      },
    });

    const page = await openPlayground();
    const question = page.locator(".pg-row-bot", { hasText: "Who should review next?" });
    const chips = question.locator(".pg-quick .pg-quick-chip");
    await chips.first().waitFor({ timeout: 5_000 });
    expect(await chips.allTextContents()).toEqual(["佐藤 花子", "Later"]);
    const [text, strip] = [await question.locator(".pg-text-bot").boundingBox(), await question.locator(".pg-quick").boundingBox()];
    expect(strip!.y).toBeGreaterThanOrEqual(text!.y + text!.height);
    await shot(page, "6-quick-replies");

    await chips.nth(1).click();
    await page.locator(".pg-row-user .pg-text-user", { hasText: "later" }).waitFor();
    // Something newer in the chat: LINE hides the chips.
    expect(await page.locator(".pg-quick").count()).toBe(0);

    await push({ type: "text", text: "Pick again", quickReply: { items: [{ type: "action", action: { type: "postback", label: "佐藤 花子", data: "playground-check=again", displayText: "佐藤 花子さんを選択" } }] } });
    await page.locator(".pg-row-bot", { hasText: "Pick again" }).locator(".pg-quick-chip").click();
    await page.locator(".pg-row-user .pg-text-user", { hasText: "佐藤 花子さんを選択" }).waitFor();

    // What reached the relay's webhook: a text message event and a postback event from the demo user.
    const events = await waitFor(() => {
      const rows = store.db.prepare(`SELECT type, body FROM webhook_events ORDER BY received_at`).all() as Array<{ type: string; body: string }>;
      const parsed = rows.map((row) => ({ type: row.type, event: JSON.parse(row.body) as { source?: { userId?: string }; message?: { text?: string }; postback?: { data?: string } } }));
      const said = parsed.find((e) => e.type === "message" && e.event.message?.text === "later");
      const tapped = parsed.find((e) => e.type === "postback" && e.event.postback?.data === "playground-check=again");
      return said && tapped ? { said, tapped } : undefined;
    }, 10_000, "the quick replies' webhook events");
    expect(events.said.event.source?.userId).toBe(sandbox.user.id);
    expect(events.tapped.event.source?.userId).toBe(sandbox.user.id);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
