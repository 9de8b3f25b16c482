import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";
import { callLine, createLineConnections, MAX_RETRY_AFTER_MS, type AccessTokenSource, type LineHttpOptions } from "../../relay/src/line/line-http.js";
import { createPushSender } from "../../relay/src/line/push-sender.js";
import { createReplySender } from "../../relay/src/line/reply-sender.js";

// What callLine promises its callers, checked on the wire against the LINE emulator.
const TOKEN = "long-lived-token-for-line-http-tests";
const USER = "U" + "d4".repeat(16);
const RETRY_KEY = "8b1f5c1e-4a3d-4e8f-9c2b-7d6e5f4a3b2c";

describe("callLine (undici request on keep-alive connections)", () => {
  const line = createLineEmulator({ longLivedTokens: [TOKEN] });
  let server: RunningServer;
  const connections = createLineConnections({ timeoutMs: 2_000 });
  const invalidated: string[] = [];
  let currentToken = TOKEN;
  const tokens: AccessTokenSource = {
    getToken: () => Promise.resolve(currentToken),
    invalidate: (token) => {
      invalidated.push(token);
      currentToken = TOKEN;
    },
  };
  let options: LineHttpOptions;

  beforeAll(async () => {
    server = await listen(line.app);
    options = { apiBaseUrl: server.url, tokens, connections, timeoutMs: 2_000 };
  });
  afterAll(async () => {
    await connections.close();
    await server.close();
  });
  beforeEach(() => {
    line.reset();
    invalidated.length = 0;
    currentToken = TOKEN;
  });
  afterEach(() => {
    line.reset();
  });

  it("sends the stored bytes with the token and retry key, and a resend of them counts as sent (409)", async () => {
    // Unusual spacing and key order: the bytes must arrive as stored, not re-serialised.
    const body = `{"messages":[{"type":"text","text":"注文 42 承認"}],  "to":"${USER}"}`;
    const push = createPushSender(options);

    const first = await push.send("push", body, RETRY_KEY);
    const again = await push.send("push", body, RETRY_KEY);

    expect(line.requests.map((r) => [r.method, r.path, r.rawBody])).toEqual([
      ["POST", "/v2/bot/message/push", body],
      ["POST", "/v2/bot/message/push", body],
    ]);
    for (const request of line.requests) {
      expect(request.headers).toMatchObject({
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        "x-line-retry-key": RETRY_KEY,
        "content-length": String(Buffer.byteLength(body)),
      });
    }
    expect(first).toMatchObject({ kind: "accepted", status: 200, requestId: line.requests[0]!.requestId });
    expect(first.kind === "accepted" && first.body?.sentMessages).toHaveLength(1);
    expect(again).toEqual({ kind: "duplicate", acceptedRequestId: line.requests[0]!.requestId, requestId: line.requests[1]!.requestId });
    expect(line.pushesTo(USER)).toHaveLength(1);
  });

  it("sends a reply without a retry key and reads LINE's answer", async () => {
    const replyToken = line.issueReplyToken({ userId: USER });
    const outcome = await createReplySender(options).reply(replyToken, ["受け付けました"]);

    expect(line.requests).toHaveLength(1);
    expect(line.requests[0]!.path).toBe("/v2/bot/message/reply");
    expect(JSON.parse(line.requests[0]!.rawBody)).toEqual({ replyToken, messages: [{ type: "text", text: "受け付けました" }] });
    expect(line.requests[0]!.headers["x-line-retry-key"]).toBeUndefined();
    expect(outcome).toMatchObject({ kind: "accepted", status: 200, requestId: line.requests[0]!.requestId });
  });

  it("keeps LINE's error message, details and request id on a rejection", async () => {
    const outcome = await callLine(options, { path: "/v2/bot/message/push", body: JSON.stringify({ to: USER, messages: [] }) });

    expect(outcome.kind).toBe("rejected");
    if (outcome.kind !== "rejected") return;
    expect(outcome.status).toBe(400);
    expect(outcome.requestId).toBe(line.requests[0]!.requestId);
    expect(outcome.message).not.toBe("");
    expect(outcome.details.length).toBeGreaterThan(0);
    expect(outcome.details[0]!.property).toContain("messages");
  });

  it("reads Retry-After on 429 and 5xx, and cuts a huge one to an hour", async () => {
    line.failNext("push", { status: 429, headers: { "retry-after": "3" } });
    line.failNext("push", { status: 503, headers: { "retry-after": "99999999" } });
    line.failNext("push", { status: 500 });
    const call = { path: "/v2/bot/message/push", body: JSON.stringify({ to: USER, messages: [{ type: "text", text: "x" }] }), headers: { "x-line-retry-key": RETRY_KEY } };

    const limited = await callLine(options, call);
    const unavailable = await callLine(options, call);
    const failed = await callLine(options, call);

    expect(limited).toEqual({
      kind: "retryable",
      status: 429,
      message: "LINE /v2/bot/message/push: 429 The API rate limit has been exceeded. Try again later.",
      retryAfterMs: 3_000,
      requestId: line.requests[0]!.requestId,
    });
    expect(unavailable).toMatchObject({ kind: "retryable", status: 503, retryAfterMs: MAX_RETRY_AFTER_MS, retryAfterCappedFrom: "99999999" });
    expect(failed).toMatchObject({ kind: "retryable", status: 500, requestId: line.requests[2]!.requestId });
    expect(failed).not.toHaveProperty("retryAfterMs");
    expect(line.pushesTo(USER)).toHaveLength(0);
  });

  it("invalidates a token LINE refuses (401), and the next call carries the renewed one", async () => {
    currentToken = "a-token-line-no-longer-accepts";
    const call = { path: "/v2/bot/message/push", body: JSON.stringify({ to: USER, messages: [{ type: "text", text: "x" }] }), headers: { "x-line-retry-key": RETRY_KEY } };

    const refused = await callLine(options, call);
    const retried = await callLine(options, call);

    expect(refused).toMatchObject({ kind: "retryable", status: 401, retryAfterMs: 0, requestId: line.requests[0]!.requestId });
    expect(invalidated).toEqual(["a-token-line-no-longer-accepts"]);
    expect(line.requests.map((r) => r.headers.authorization)).toEqual(["Bearer a-token-line-no-longer-accepts", `Bearer ${TOKEN}`]);
    expect(retried).toMatchObject({ kind: "accepted", status: 200 });
  });

  it("classifies a timeout and a dropped connection as retryable with no status", async () => {
    // undici's headers timer ticks about every half second: a 150 ms timeout ends the call well
    // before the 1.5 s answer, not at 150 ms sharp.
    const quick: LineHttpOptions = { ...options, timeoutMs: 150 };
    const call = { path: "/v2/bot/message/push", body: JSON.stringify({ to: USER, messages: [{ type: "text", text: "x" }] }), headers: { "x-line-retry-key": RETRY_KEY } };

    line.delayNext("push", 1_500);
    const started = Date.now();
    const slow = await callLine(quick, call);
    const waited = Date.now() - started;
    line.dropNext("push");
    const dropped = await callLine(options, call);

    expect(slow).toEqual({ kind: "retryable", status: null, message: "LINE /v2/bot/message/push: timed out" });
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1_400);
    expect(dropped).toMatchObject({ kind: "retryable", status: null });
    expect(dropped.kind === "retryable" && dropped.message).not.toContain("timed out");
    expect(line.requests.map((r) => r.path)).toEqual(["/v2/bot/message/push", "/v2/bot/message/push"]);
    // The call that timed out still reaches LINE: why a retry carries the same retry key.
    await vi.waitFor(() => expect(line.pushesTo(USER)).toHaveLength(1), { timeout: 3_000 });
  });

  it("answers retryable with no status when there is no token", async () => {
    const outcome = await callLine({ ...options, tokens: { getToken: () => Promise.reject(new Error("issuer down")), invalidate: () => undefined } }, {
      path: "/v2/bot/message/reply",
      body: "{}",
    });
    expect(outcome).toEqual({ kind: "retryable", status: null, message: "no channel access token: issuer down" });
    expect(line.requests).toHaveLength(0);
  });
});
