import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";

const TOKEN = "long-lived-token-for-delivery-tests";
const USER = "U" + "a1".repeat(16);
const OTHER = "U" + "b2".repeat(16);
const GROUP = "C" + "c3".repeat(16);
const RETRY_KEY = "123e4567-e89b-12d3-a456-426614174000";
const TEXT = [{ type: "text", text: "Order 42 approved" }];

describe("LINE emulator: delivery, retry keys, reply tokens, faults", () => {
  let clock = Date.parse("2026-04-01T09:00:00Z");
  const line = createLineEmulator({ longLivedTokens: [TOKEN], now: () => clock });
  let server: RunningServer;

  beforeAll(async () => {
    server = await listen(line.app);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    line.reset();
    line.setMonthlyQuota(1_000_000);
  });

  function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
      body: JSON.stringify(body),
    });
  }

  describe("X-Line-Retry-Key", () => {
    it("answers 409 with the first request's id and does not deliver again", async () => {
      const first = await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY });
      expect(first.status).toBe(200);
      const firstBody = (await first.json()) as { sentMessages: unknown[] };
      const again = await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY });
      expect(again.status).toBe(409);
      expect(again.headers.get("x-line-accepted-request-id")).toBe(first.headers.get("x-line-request-id"));
      expect(await again.json()).toEqual({ message: "The retry key is already accepted", sentMessages: firstBody.sentMessages });
      expect(line.pushesTo(USER)).toHaveLength(1);
      expect(line.delivered[0]!.retryKey).toBe(RETRY_KEY);
    });

    it("forgets a key after 24 hours (by the clock)", async () => {
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).status).toBe(200);
      clock += 24 * 60 * 60 * 1000;
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).status).toBe(200);
    });

    it("rejects a key that is not a UUID, and any key on reply", async () => {
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": "job-1" })).status).toBe(400);
      const replyToken = line.issueReplyToken({ userId: USER });
      expect((await post("/v2/bot/message/reply", { replyToken, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).status).toBe(400);
      expect(line.delivered).toHaveLength(0);
    });

    it("does not remember a key whose request failed before being accepted", async () => {
      line.failNext("push", { status: 500 });
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).status).toBe(500);
      expect(line.delivered).toHaveLength(0);
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).status).toBe(200);
      expect(line.pushesTo(USER)).toHaveLength(1);
    });

    it("answers 409 to the retry after an accepted request whose answer was lost", async () => {
      line.failNextAfterAccepting("push", 500);
      const lost = await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY });
      expect(lost.status).toBe(500);
      expect(line.pushesTo(USER)).toHaveLength(1);
      const retry = await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY });
      expect(retry.status).toBe(409);
      expect(retry.headers.get("x-line-accepted-request-id")).toBe(lost.headers.get("x-line-request-id"));
      expect(line.pushesTo(USER)).toHaveLength(1);
    });
  });

  describe("reply tokens", () => {
    it("work once", async () => {
      const replyToken = line.issueReplyToken({ userId: USER });
      const first = await post("/v2/bot/message/reply", { replyToken, messages: TEXT });
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ sentMessages: [{ id: expect.any(String), quoteToken: expect.any(String) }] });
      const second = await post("/v2/bot/message/reply", { replyToken, messages: TEXT });
      expect(second.status).toBe(400);
      expect(await second.json()).toEqual({ message: "Invalid reply token" });
      expect(line.repliesTo(USER)).toHaveLength(1);
      expect(line.quotaConsumption).toBe(0); // replies are free
    });

    it("expire after replyTokenTtlMs", async () => {
      const replyToken = line.issueReplyToken({ groupId: GROUP, userId: USER });
      clock += 60_000;
      const late = await post("/v2/bot/message/reply", { replyToken, messages: TEXT });
      expect(late.status).toBe(400);
      expect(await late.json()).toEqual({ message: "Invalid reply token" });
      const fresh = line.issueReplyToken({ groupId: GROUP, userId: USER });
      clock += 59_999;
      expect((await post("/v2/bot/message/reply", { replyToken: fresh, messages: TEXT })).status).toBe(200);
      expect(line.repliesTo(GROUP)).toHaveLength(1);
    });

    it("are not spent by an invalid body", async () => {
      const replyToken = line.issueReplyToken({ userId: USER });
      expect((await post("/v2/bot/message/reply", { replyToken, messages: [] })).status).toBe(400);
      expect((await post("/v2/bot/message/reply", { replyToken, messages: TEXT })).status).toBe(200);
    });
  });

  it("answers 200 to a push to a blocked user but records it as not delivered", async () => {
    line.blockUser(OTHER);
    const response = await post("/v2/bot/message/push", { to: OTHER, messages: TEXT });
    expect(response.status).toBe(200);
    expect(line.delivered[0]!.blocked).toEqual([OTHER]);
    expect(line.pushesTo(OTHER)).toHaveLength(0);
    line.unblockUser(OTHER);
  });

  it("counts pushed recipients against the quota and answers 429 over it", async () => {
    line.setMonthlyQuota(2);
    expect((await post("/v2/bot/message/multicast", { to: [USER, OTHER], messages: TEXT })).status).toBe(200);
    const over = await post("/v2/bot/message/push", { to: USER, messages: TEXT });
    expect(over.status).toBe(429);
    expect(await over.json()).toEqual({ message: "You have reached your monthly limit." });
    const consumption = await fetch(server.url + "/v2/bot/message/quota/consumption", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await consumption.json()).toEqual({ totalUsage: 2 });
    const quota = await fetch(server.url + "/v2/bot/message/quota", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await quota.json()).toEqual({ type: "limited", value: 2 });
  });

  it("serves profiles and 404 for unknown ones", async () => {
    line.setProfile(USER, { displayName: "Taro", language: "ja" });
    line.setGroupMemberProfile(GROUP, OTHER, { displayName: "Hanako" });
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    const profile = await fetch(`${server.url}/v2/bot/profile/${USER}`, auth);
    expect(await profile.json()).toEqual({ displayName: "Taro", userId: USER, language: "ja" });
    const member = await fetch(`${server.url}/v2/bot/group/${GROUP}/member/${OTHER}`, auth);
    expect(await member.json()).toEqual({ displayName: "Hanako", userId: OTHER });
    const missing = await fetch(`${server.url}/v2/bot/profile/${OTHER}`, auth);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: "Not found" });
  });

  describe("faults", () => {
    it("failNext answers the scripted status and headers, and delivers nothing", async () => {
      line.failNext("push", { status: 429, count: 2, headers: { "retry-after": "3" } });
      for (let i = 0; i < 2; i++) {
        const response = await post("/v2/bot/message/push", { to: USER, messages: TEXT });
        expect(response.status).toBe(429);
        expect(response.headers.get("retry-after")).toBe("3");
        expect(response.headers.get("x-line-request-id")).toBeTruthy();
      }
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT })).status).toBe(200);
      expect(line.pushesTo(USER)).toHaveLength(1);
    });

    it("failNext of one kind leaves other kinds alone; 'any' matches all", async () => {
      line.failNext("multicast", { status: 503 });
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT })).status).toBe(200);
      line.failNext("any", { status: 500 });
      expect((await post("/v2/bot/message/multicast", { to: [USER], messages: TEXT })).status).toBe(503);
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT })).status).toBe(500);
    });

    it("dropNext closes the connection without an answer", async () => {
      line.dropNext("push");
      await expect(post("/v2/bot/message/push", { to: USER, messages: TEXT })).rejects.toThrow();
      expect(line.delivered).toHaveLength(0);
      expect(line.requests.at(-1)!.status).toBe(0);
    });

    it("dropNext afterAccepting delivers, then the retry gets 409", async () => {
      line.dropNext("push", 1, { afterAccepting: true });
      await expect(post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).rejects.toThrow();
      expect(line.pushesTo(USER)).toHaveLength(1);
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT }, { "x-line-retry-key": RETRY_KEY })).status).toBe(409);
    });

    it("delayNext holds the answer back", async () => {
      line.delayNext("push", 150);
      const started = Date.now();
      expect((await post("/v2/bot/message/push", { to: USER, messages: TEXT })).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });
});
