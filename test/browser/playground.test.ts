/**
 * The sandbox's playground in chromium, end to end through the real relay: run "Approve" on the
 * record page (the built plugin in the kintone page emulator), see the Flex message on the phone,
 * tap its button (a signed webhook to the relay), see the reply on the phone and the
 * acknowledgement in the record (fields and comment).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../sandbox/start-sandbox.js";
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

async function openPlayground(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(sandbox.playgroundUrl);
  await page.frameLocator("#pg-kintone").locator("#emu-record tr").first().waitFor();
  return page;
}

describe("the sandbox playground", () => {
  it("Approve on the record page -> Flex message on the phone -> tap -> reply on the phone, acknowledgement in the record", async () => {
    const page = await openPlayground();
    const record = page.frameLocator("#pg-kintone");
    await record.locator('.emu-action[data-action="Approve"]').waitFor();
    const [first] = sandbox.records;
    expect(first?.label).toBe("A-1001");
    await page.locator("#pg-chat .pg-chat-empty", { hasText: "No messages yet" }).waitFor();

    await record.locator('.emu-action[data-action="Approve"]').click();
    await expect.poll(() => record.locator("#emu-status").textContent(), { timeout: 10_000 }).toBe("Approved");

    // The pushed message, rendered as LINE shows it.
    const bubble = page.locator("#pg-chat .flex-bubble");
    await bubble.waitFor({ timeout: 10_000 });
    const shown = (await bubble.textContent()) ?? "";
    expect(shown).toContain("Order A-1001 approved");
    expect(shown).toContain("Approve: Submitted → Approved");
    expect(shown).toContain("Tanaka Trading");
    expect(await bubble.locator(".flex-button-primary").textContent()).toBe("Got it");
    expect(await bubble.locator(".flex-button-link").textContent()).toBe("Open in kintone");
    // The plugin's panel on the record page lists the delivery.
    await record.locator(".kline-delivery").waitFor({ timeout: 10_000 });
    expect(await record.locator(".kline-notice").count()).toBe(0);

    await bubble.locator(".flex-button-primary").click();

    // displayText as the user's message, then the relay's reply.
    await page.locator(".pg-row-user .pg-text-user", { hasText: "Got it" }).waitFor();
    await page.locator(".pg-row-bot .pg-text-bot", { hasText: "Thanks, we noted it." }).waitFor({ timeout: 10_000 });
    expect(sandbox.line.repliesTo(sandbox.user.id)).toHaveLength(1);

    // The acknowledgement in the record: fields, comment, the plugin's panel.
    const field = (code: string) => record.locator(`tr[data-field="${code}"] td`).textContent();
    await expect.poll(() => field("ack_status"), { timeout: 10_000 }).toBe("Acknowledged");
    expect(await field("ack_by")).toContain("Sato Hanako");
    expect(await field("ack_at")).not.toBe("");
    await page.locator("#pg-comments .pg-comment", { hasText: "Acknowledged on LINE by Sato Hanako" }).waitFor({ timeout: 10_000 });
    await record.locator(".kline-ack").waitFor({ timeout: 10_000 });

    // What reached kintone, read from the emulator itself.
    const stored = sandbox.kintone.getRecord(sandbox.appId, first!.id);
    expect(stored.ack_status?.value).toBe("Acknowledged");
    expect(sandbox.kintone.comments(sandbox.appId, first!.id).map((c) => c.text)).toEqual([
      expect.stringContaining("Acknowledged on LINE by Sato Hanako"),
    ]);

    // "Open in kintone" opens the record on the left, as the link in a real message opens kintone.
    await page.locator("#pg-settings-link").click();
    await waitFor(() => page.frames().some((f) => f.url().includes("/plugin/config")), 5_000, "the settings page");
    await bubble.locator(".flex-button-link").click();
    await waitFor(() => page.frames().some((f) => f.url().endsWith(`/k/${sandbox.appId}/show?record=${first!.id}`)), 5_000, "the record page");
    await record.locator("#emu-status", { hasText: "Approved" }).waitFor();
    expect(await page.locator(`.pg-nav a[data-record="${first!.id}"]`).getAttribute("class")).toBe("pg-current");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("the plugin's settings page for the demo app opens from the playground, with the relay already set up", async () => {
    const page = await openPlayground();
    await page.locator("#pg-settings-link").click();
    const settings = page.frameLocator("#pg-kintone");
    await settings.locator(".kline-rule").first().waitFor({ timeout: 10_000 });
    const frameUrl = await waitFor(() => page.frames().find((f) => f.url().includes("/plugin/config"))?.url(), 5_000, "settings frame");
    expect(frameUrl).toContain(`pluginId=${sandbox.pages.pluginId}`);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("the phone renders Flex messages as LINE lays them out: carousel, box layouts, spans, button styles, separator, filler, placeholders", async () => {
    const carousel = {
      type: "flex",
      altText: "layout check",
      contents: {
        type: "carousel",
        contents: [
          {
            type: "bubble",
            size: "kilo",
            hero: { type: "image", url: "https://example.com/a.png", size: "full", aspectRatio: "2:1" },
            body: {
              type: "box",
              layout: "vertical",
              spacing: "md",
              contents: [
                { type: "text", text: "x", size: "xl", weight: "bold", contents: [{ type: "span", text: "Big " }, { type: "span", text: "red", color: "#ff0000", weight: "bold" }] },
                {
                  type: "box",
                  layout: "horizontal",
                  contents: [
                    { type: "text", text: "left", flex: 1 },
                    { type: "filler" },
                    { type: "text", text: "right", flex: 3, align: "end" },
                  ],
                },
                { type: "separator", margin: "xxl" },
                {
                  type: "box",
                  layout: "baseline",
                  spacing: "sm",
                  contents: [
                    { type: "icon", url: "https://example.com/star.png", size: "sm" },
                    { type: "text", text: "4.0", size: "xs", color: "#999999" },
                  ],
                },
              ],
            },
            footer: {
              type: "box",
              layout: "horizontal",
              spacing: "sm",
              contents: [
                { type: "button", style: "secondary", action: { type: "message", label: "Secondary", text: "hi" } },
                { type: "button", style: "link", height: "sm", action: { type: "uri", label: "Link", uri: "https://example.com/" } },
              ],
            },
          },
          { type: "bubble", size: "kilo", body: { type: "box", layout: "vertical", contents: [{ type: "text", text: "second", size: "xxs" }] } },
        ],
      },
    };
    const token = sandbox.line.createAccessToken();
    const pushed = await sandbox.line.app.request("/v2/bot/message/push", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ to: sandbox.user.id, messages: [carousel] }),
    });
    // The test message itself is one LINE accepts: the sandbox's emulator validates against the LINE contract.
    expect(pushed.status, await pushed.clone().text()).toBe(200);

    const page = await openPlayground();
    const shown = page.locator("#pg-chat .flex-carousel");
    await shown.waitFor({ timeout: 5_000 });
    const bubbles = shown.locator(".flex-bubble");
    expect(await bubbles.count()).toBe(2);
    const first = bubbles.nth(0);
    expect((await first.boundingBox())?.width).toBe(260); // kilo
    expect((await bubbles.nth(1).boundingBox())?.width).toBe(260);

    // hero image: a 2:1 placeholder over the full width
    const hero = await first.locator(".flex-hero .flex-image").boundingBox();
    expect(hero?.width).toBe(260);
    expect(hero?.height).toBe(130);

    // text with spans: size keyword in px, span styles
    const title = first.locator(".flex-body .flex-text").first();
    expect(await title.textContent()).toBe("Big red");
    expect(await title.evaluate((el) => getComputedStyle(el).fontSize)).toBe("22px");
    expect(await title.locator(".flex-span").nth(1).evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).fontWeight])).toEqual(["rgb(255, 0, 0)", "700"]);

    // horizontal box: side by side, widths by flex (1 : filler 1 : 3)
    const row = first.locator(".flex-body .flex-horizontal").first();
    const [left, filler, right] = await Promise.all(
      [row.locator(".flex-text").first(), row.locator(".flex-filler"), row.locator(".flex-text").nth(1)].map((l) => l.boundingBox()),
    );
    expect(left!.y).toBe(right!.y);
    expect(left!.x).toBeLessThan(filler!.x);
    expect(filler!.x).toBeLessThan(right!.x);
    expect(right!.width / left!.width).toBeCloseTo(3, 1);
    expect(await row.locator(".flex-text").nth(1).evaluate((el) => getComputedStyle(el).textAlign)).toBe("right");

    // separator with margin xxl (20px) above it, spacing md (8px) elsewhere
    const separator = first.locator(".flex-body > .flex-box > .flex-separator");
    expect(await separator.evaluate((el) => [getComputedStyle(el).marginTop, getComputedStyle(el).borderTopWidth])).toEqual(["20px", "1px"]);
    expect(await row.evaluate((el) => getComputedStyle(el).marginTop)).toBe("8px");

    // baseline box with an icon placeholder sized by keyword (sm: 14px)
    const icon = await first.locator(".flex-baseline .flex-icon").boundingBox();
    expect([icon?.width, icon?.height]).toEqual([14, 14]);

    // buttons: secondary and link styles, side by side in a horizontal footer; heights md 52 / sm 40
    const secondary = first.locator(".flex-footer .flex-button-secondary");
    const link = first.locator(".flex-footer .flex-button-link");
    expect(await secondary.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(220, 223, 229)");
    expect(await link.evaluate((el) => getComputedStyle(el).color)).toBe("rgb(66, 101, 154)");
    const [s, l] = [await secondary.boundingBox(), await link.boundingBox()];
    expect(s!.y).toBe(l!.y);
    expect([s!.height, l!.height]).toEqual([52, 40]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("a LINE link code made on the record page, sent from the phone, links the user and gets the relay's reply", async () => {
    const page = await openPlayground();
    const second = sandbox.records[1]!;
    await page.locator(`.pg-nav a[data-record="${second.id}"]`).click();
    const record = page.frameLocator("#pg-kintone");
    await waitFor(() => page.frames().some((f) => f.url().endsWith(`show?record=${second.id}`)), 5_000, "record 2");
    await record.locator(".kline-link-button").click();
    await record.locator(".kline-link-create").click();
    const code = ((await record.locator(".kline-link-code").textContent()) ?? "").trim();
    expect(code).not.toBe("");

    await page.locator("#pg-say-input").fill(code);
    await page.locator("#pg-say-input").press("Enter");
    await page.locator(".pg-row-user .pg-text-user", { hasText: code }).waitFor();
    await page.locator(".pg-row-bot .pg-text-bot", { hasText: "Your LINE account is now connected." }).waitFor({ timeout: 10_000 });
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });
});
