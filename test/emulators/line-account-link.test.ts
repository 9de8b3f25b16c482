import { createHmac } from "node:crypto";
import { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLineEmulator, DEFAULT_CHANNEL } from "../../emulators/line/line-emulator.js";
import { newWebhookEventId } from "../../emulators/line/webhook-delivery.js";
import { listen, type RunningServer } from "../../emulators/listen.js";

const TOKEN = "long-lived-token-for-account-link-tests";
const USER = "U" + "a1".repeat(16);
const OTHER = "U" + "b2".repeat(16);
const BOT = "U" + "f0".repeat(16);
const NONCE = "bm9uY2UtZm9yLWxpbmtpbmctMTIz";
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface Received {
  rawBody: string;
  signature: string | undefined;
  body: { destination: string; events: Array<Record<string, unknown>> };
}

/** The bot's webhook endpoint: keeps what arrived, answers 200 (after `delayMs`, when set). */
function createReceiver() {
  const received: Received[] = [];
  let delayMs = 0;
  const app = new Hono();
  app.post("/webhook", async (c) => {
    const rawBody = await c.req.text();
    received.push({ rawBody, signature: c.req.header("x-line-signature"), body: JSON.parse(rawBody) as Received["body"] });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return c.body(null, 200);
  });
  return {
    app,
    received,
    setDelay(ms: number) {
      delayMs = ms;
    },
  };
}

function expectedSignature(rawBody: string, secret = DEFAULT_CHANNEL.channelSecret): string {
  return createHmac("sha256", secret).update(rawBody).digest("base64");
}

describe("LINE emulator: account link", () => {
  let clock = Date.parse("2026-04-01T09:00:00Z");
  const line = createLineEmulator({ longLivedTokens: [TOKEN], now: () => clock, botUserId: BOT, webhookTimeoutMs: 1_000 });
  const receiver = createReceiver();
  let api: RunningServer;
  let access: RunningServer;
  let bot: RunningServer;

  beforeAll(async () => {
    [api, access, bot] = await Promise.all([listen(line.app), listen(line.accessApp), listen(receiver.app)]);
    line.setWebhook({ url: `${bot.url}/webhook` });
  });
  afterAll(async () => {
    await Promise.all([api.close(), access.close(), bot.close()]);
  });
  beforeEach(() => {
    line.reset();
    receiver.received.length = 0;
    receiver.setDelay(0);
  });

  async function issueLinkToken(userId: string): Promise<string> {
    const response = await fetch(`${api.url}/v2/bot/user/${userId}/linkToken`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { linkToken: string };
    return body.linkToken;
  }

  /** Logs a browser in through GET /login, as a test would with a real browser: its Cookie header. */
  async function loginCookie(userId: string): Promise<string> {
    const response = await fetch(`${access.url}/login?user=${userId}`);
    expect(response.status).toBe(200);
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/i);
    return setCookie.split(";")[0]!;
  }

  function openLinkPage(linkToken: string, nonce: string | undefined, cookie?: string) {
    const query = new URLSearchParams({ linkToken, ...(nonce !== undefined ? { nonce } : {}) });
    return fetch(`${access.url}/dialog/bot/accountLink?${query}`, { headers: cookie ? { cookie } : {} });
  }

  function reply(replyToken: string) {
    return fetch(`${api.url}/v2/bot/message/reply`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ replyToken, messages: [{ type: "text", text: "Linked" }] }),
    });
  }

  describe("POST /v2/bot/user/{userId}/linkToken", () => {
    it("issues a 32-character single-use token for the user and records the request", async () => {
      const linkToken = await issueLinkToken(USER);
      expect(linkToken).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(line.issuedLinkTokens).toEqual([{ linkToken, userId: USER, issuedAt: clock, expiresAt: clock + 10 * 60_000 }]);
      expect(line.requests.map(({ method, path, status }) => ({ method, path, status }))).toEqual([
        { method: "POST", path: `/v2/bot/user/${USER}/linkToken`, status: 200 },
      ]);
      expect(await issueLinkToken(USER)).not.toBe(linkToken);
    });

    it("needs a valid channel access token", async () => {
      const none = await fetch(`${api.url}/v2/bot/user/${USER}/linkToken`, { method: "POST" });
      expect(none.status).toBe(401);
      const wrong = await fetch(`${api.url}/v2/bot/user/${USER}/linkToken`, { method: "POST", headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      expect(line.issuedLinkTokens).toHaveLength(0);
    });

    it("answers LINE's 400 to a malformed user ID", async () => {
      for (const userId of ["fdsafdsa", "C" + "a1".repeat(16), "U" + "a1".repeat(15)]) {
        const response = await fetch(`${api.url}/v2/bot/user/${userId}/linkToken`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ message: "The value for the 'userId' parameter is invalid" });
      }
      expect(line.issuedLinkTokens).toHaveLength(0);
    });

    it("can be made to fail (fault kind linkToken) without issuing", async () => {
      line.failNext("linkToken", { status: 500 });
      const response = await fetch(`${api.url}/v2/bot/user/${USER}/linkToken`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(500);
      expect(line.issuedLinkTokens).toHaveLength(0);
    });
  });

  describe("the account-link page", () => {
    it("links the logged-in owner of the token: a signed accountLink event with the nonce reaches the bot", async () => {
      const linkToken = await issueLinkToken(USER);
      const cookie = await loginCookie(USER);
      const page = await openLinkPage(linkToken, NONCE, cookie);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/text\/html/);
      const html = await page.text();
      expect(html).toContain("連携しました");
      expect(html).toContain("Linked");

      expect(receiver.received).toHaveLength(1);
      const [arrived] = receiver.received;
      expect(arrived!.signature).toBe(expectedSignature(arrived!.rawBody));
      expect(arrived!.body).toEqual({
        destination: BOT,
        events: [
          {
            type: "accountLink",
            mode: "active",
            timestamp: clock,
            source: { type: "user", userId: USER },
            webhookEventId: expect.stringMatching(ULID),
            deliveryContext: { isRedelivery: false },
            replyToken: expect.any(String),
            link: { result: "ok", nonce: NONCE },
          },
        ],
      });
      expect(line.sentWebhooks).toEqual([expect.objectContaining({ url: `${bot.url}/webhook`, rawBody: arrived!.rawBody, status: 200 })]);
      expect(line.accountLinkVisits).toEqual([expect.objectContaining({ linkToken, nonce: NONCE, browserUserId: USER, outcome: "linked", status: 200 })]);
      expect(line.issuedLinkTokens[0]!.usedAt).toBe(clock);
    });

    it("knows the browser's user from sessionCookie() as from GET /login", async () => {
      const linkToken = await issueLinkToken(USER);
      expect((await openLinkPage(linkToken, NONCE, line.sessionCookie(USER))).status).toBe(200);
      expect(receiver.received.map((r) => r.body.events[0]!.link)).toEqual([{ result: "ok", nonce: NONCE }]);
    });

    it("gives the event a reply token that works once, for that user", async () => {
      const linkToken = await issueLinkToken(USER);
      await openLinkPage(linkToken, NONCE, line.sessionCookie(USER));
      const replyToken = receiver.received[0]!.body.events[0]!.replyToken as string;
      expect((await reply(replyToken)).status).toBe(200);
      const again = await reply(replyToken);
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({ message: "Invalid reply token" });
      expect(line.repliesTo(USER)).toHaveLength(1);
    });

    it("uses a link token once: a second visit shows an error and sends nothing", async () => {
      const linkToken = await issueLinkToken(USER);
      const cookie = line.sessionCookie(USER);
      expect((await openLinkPage(linkToken, NONCE, cookie)).status).toBe(200);
      const second = await openLinkPage(linkToken, "another-nonce-0123456789", cookie);
      expect(second.status).toBe(400);
      expect(await second.text()).toContain("This link is invalid or has expired.");
      expect(receiver.received).toHaveLength(1);
      expect(line.accountLinkVisits.map((visit) => visit.outcome)).toEqual(["linked", "invalid-link-token"]);
    });

    it("refuses a link token 10 minutes after it was issued (emulator clock), without an event", async () => {
      const early = await issueLinkToken(USER);
      const late = await issueLinkToken(USER);
      const cookie = line.sessionCookie(USER);
      clock += 10 * 60_000 - 1;
      expect((await openLinkPage(early, NONCE, cookie)).status).toBe(200);
      clock += 1;
      expect((await openLinkPage(late, NONCE, cookie)).status).toBe(400);
      expect(receiver.received).toHaveLength(1);
      expect(line.accountLinkVisits.map((visit) => visit.outcome)).toEqual(["linked", "invalid-link-token"]);
    });

    it("refuses link tokens expired by expireAllLinkTokens()", async () => {
      const linkToken = await issueLinkToken(USER);
      line.expireAllLinkTokens();
      expect((await openLinkPage(linkToken, NONCE, line.sessionCookie(USER))).status).toBe(400);
      expect(receiver.received).toHaveLength(0);
    });

    it("refuses an unknown link token without an event", async () => {
      expect((await openLinkPage("NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY", NONCE, line.sessionCookie(USER))).status).toBe(400);
      expect(receiver.received).toHaveLength(0);
      expect(line.sentWebhooks).toHaveLength(0);
    });

    it("sends result failed, without source or reply token, when another LINE user opens the link; the token is spent", async () => {
      const linkToken = await issueLinkToken(USER);
      const page = await openLinkPage(linkToken, NONCE, await loginCookie(OTHER));
      expect(page.status).toBe(403);
      expect(receiver.received).toHaveLength(1);
      const [arrived] = receiver.received;
      expect(arrived!.signature).toBe(expectedSignature(arrived!.rawBody));
      expect(arrived!.body).toEqual({
        destination: BOT,
        events: [
          {
            type: "accountLink",
            mode: "active",
            timestamp: clock,
            webhookEventId: expect.stringMatching(ULID),
            deliveryContext: { isRedelivery: false },
            link: { result: "failed", nonce: NONCE },
          },
        ],
      });
      // The rightful owner cannot use it afterwards either.
      expect((await openLinkPage(linkToken, "fresh-nonce-0123456789", line.sessionCookie(USER))).status).toBe(400);
      expect(receiver.received).toHaveLength(1);
      expect(line.accountLinkVisits.map((visit) => visit.outcome)).toEqual(["failed", "invalid-link-token"]);
    });

    it("refuses a nonce shorter than 10 or longer than 255 characters, or none, and keeps the token", async () => {
      const linkToken = await issueLinkToken(USER);
      const cookie = line.sessionCookie(USER);
      for (const nonce of ["123456789", "n".repeat(256), "", undefined]) {
        const page = await openLinkPage(linkToken, nonce, cookie);
        expect(page.status).toBe(400);
      }
      expect(receiver.received).toHaveLength(0);
      expect(line.accountLinkVisits.map((visit) => visit.outcome)).toEqual(Array(4).fill("invalid-nonce"));
      expect((await openLinkPage(linkToken, "n".repeat(255), cookie)).status).toBe(200);
      const short = await issueLinkToken(USER);
      expect((await openLinkPage(short, "1234567890", cookie)).status).toBe(200);
      expect(receiver.received.map((r) => (r.body.events[0]!.link as { nonce: string }).nonce)).toEqual(["n".repeat(255), "1234567890"]);
    });

    it("asks a browser with no LINE user to log in, sends nothing and keeps the token", async () => {
      const linkToken = await issueLinkToken(USER);
      const anonymous = await openLinkPage(linkToken, NONCE);
      expect(anonymous.status).toBe(401);
      const forged = await openLinkPage(linkToken, NONCE, "line_emulator_session=made-up");
      expect(forged.status).toBe(401);
      expect(receiver.received).toHaveLength(0);
      expect((await openLinkPage(linkToken, NONCE, line.sessionCookie(USER))).status).toBe(200);
      expect(receiver.received).toHaveLength(1);
    });

    it("refuses to log a browser in as something that is not a user ID", async () => {
      const response = await fetch(`${access.url}/login?user=nobody`);
      expect(response.status).toBe(400);
      expect(response.headers.get("set-cookie")).toBeNull();
    });

    it("answers the page without waiting longer than the webhook timeout for a slow bot", async () => {
      receiver.setDelay(4_000);
      const linkToken = await issueLinkToken(USER);
      const started = Date.now();
      const page = await openLinkPage(linkToken, NONCE, line.sessionCookie(USER));
      const took = Date.now() - started;
      expect(page.status).toBe(200);
      expect(took).toBeLessThan(3_000);
      expect(receiver.received).toHaveLength(1);
      expect(line.sentWebhooks).toEqual([expect.objectContaining({ status: 0, error: expect.stringMatching(/timeout|abort/i) })]);
    });

    it("signs with the secret given to setWebhook", async () => {
      line.setWebhook({ url: `${bot.url}/webhook`, channelSecret: "another-secret" });
      try {
        const linkToken = await issueLinkToken(USER);
        await openLinkPage(linkToken, NONCE, line.sessionCookie(USER));
        const [arrived] = receiver.received;
        expect(arrived!.signature).toBe(expectedSignature(arrived!.rawBody, "another-secret"));
      } finally {
        line.setWebhook({ url: `${bot.url}/webhook` });
      }
    });
  });

  describe("sendWebhookEvents", () => {
    it("delivers any events, signed the same way, in one body", async () => {
      const replyToken = line.issueReplyToken({ userId: USER });
      const events = [
        {
          type: "message",
          mode: "active",
          timestamp: clock,
          source: { type: "user", userId: USER },
          webhookEventId: newWebhookEventId(clock),
          deliveryContext: { isRedelivery: false },
          replyToken,
          message: { type: "text", id: "600000000000000001", text: "connect", quoteToken: "q" },
        },
        { type: "unfollow", mode: "active", timestamp: clock, source: { type: "user", userId: OTHER }, webhookEventId: newWebhookEventId(clock), deliveryContext: { isRedelivery: false } },
      ];
      const sent = await line.sendWebhookEvents(events);
      expect(sent?.status).toBe(200);
      const [arrived] = receiver.received;
      expect(arrived!.signature).toBe(expectedSignature(arrived!.rawBody));
      expect(arrived!.body).toEqual({ destination: BOT, events });
      expect((await reply(replyToken)).status).toBe(200);
    });

    it("sends nothing when no webhook URL is set, as LINE does with webhooks off", async () => {
      line.clearWebhook();
      try {
        expect(await line.sendWebhookEvents([])).toBeUndefined();
        const linkToken = await issueLinkToken(USER);
        expect((await openLinkPage(linkToken, NONCE, line.sessionCookie(USER))).status).toBe(200);
        expect(receiver.received).toHaveLength(0);
        expect(line.sentWebhooks).toHaveLength(0);
      } finally {
        line.setWebhook({ url: `${bot.url}/webhook` });
      }
    });
  });
});
