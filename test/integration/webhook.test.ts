import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { followEvent, postbackEvent, postWebhook, textEvent, unfollowEvent, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack, type StackOptions } from "../helpers/start-stack.js";

const USER_A = "U" + "a".repeat(32);
const USER_B = "U" + "b".repeat(32);
const STRANGER = "U" + "9".repeat(32);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

async function setUp(options: StackOptions = {}) {
  stack = await startStack(options);
  stack.line.setProfile(USER_A, { displayName: "Hanako Yamada" });
  stack.line.setProfile(USER_B, { displayName: "Taro Sato" });
  stack.line.setProfile(STRANGER, { displayName: "Stranger" });
}

/** Runs the notification flow for a new order and returns what the tap needs. */
async function deliverOrder(lineIds = USER_A) {
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-7", customer: "Sakura", line_user_id: lineIds });
  const before = stack.line.delivered.length;
  const response = await stack.notify(approvalRequest(recordId, demoRuleSet()));
  expect(response.status).toBe(202);
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  await waitFor(() => stack.line.delivered.length > before, 5000, "the push");
  const pushed = JSON.stringify(stack.line.delivered.at(-1)?.messages);
  const data = /"type":"postback"[^}]*?"data":"([^"]+)"|"data":"([^"]+)"[^}]*?"type":"postback"/.exec(pushed);
  const postbackData = data?.[1] ?? data?.[2];
  if (!postbackData) throw new Error(`no postback data in ${pushed}`);
  return { recordId, postbackData };
}

async function tap(postbackData: string, userId: string, extra: { webhookEventId?: string; isRedelivery?: boolean; timestamp?: number } = {}) {
  const replyToken = stack.line.issueReplyToken({ userId });
  const event = postbackEvent(postbackData, { userId, replyToken, ...extra });
  const response = await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
  return { event, replyToken };
}

const puts = () => stack.kintone.requests.filter((r) => r.path === "/k/v1/record.json" && r.method === "PUT");
const replies = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/reply");
const replyTexts = () => replies().map((r) => ((r.body as { messages: Array<{ text: string }> }).messages[0]?.text ?? ""));
const webhookEventsDone = async (n: number) =>
  waitFor(
    () => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM webhook_events WHERE state = 'done'`).get() as { n: number }).n >= n,
    10_000,
    `${n} webhook events processed`,
  );

describe("POST /line/webhook: a tap becomes an acknowledgement", () => {
  beforeEach(async () => {
    await setUp();
  });

  it("writes fields, timestamp, display name and comment once, and replies once with the event's token", async () => {
    const { recordId, postbackData } = await deliverOrder();
    const tappedAt = Date.UTC(2026, 10, 21, 5, 30, 12);
    const { replyToken } = await tap(postbackData, USER_A, { timestamp: Date.now() });
    await webhookEventsDone(1);

    const record = stack.kintone.getRecord(stack.demoAppId, recordId);
    expect(record["ack_status"]?.value).toBe("Acknowledged");
    expect(record["ack_by"]?.value).toBe("Hanako Yamada");
    expect(typeof record["ack_at"]?.value).toBe("string");
    expect(Math.abs(Date.parse(String(record["ack_at"]?.value)) - Date.now())).toBeLessThan(120_000);
    expect(stack.kintone.comments(stack.demoAppId, recordId).map((c) => c.text)).toEqual(["Acknowledged on LINE by Hanako Yamada"]);
    expect(puts()).toHaveLength(1);

    expect(replies()).toHaveLength(1);
    const [reply] = replies();
    expect(reply?.status).toBe(200);
    expect(reply?.body).toEqual({ replyToken, messages: [{ type: "text", text: "Thanks, we noted it." }] });
    expect(tappedAt).toBeGreaterThan(0);
  });

  it("the same event delivered three times (one flagged as redelivery): one write, one reply", async () => {
    const { recordId, postbackData } = await deliverOrder();
    const replyToken = stack.line.issueReplyToken({ userId: USER_A });
    const event = postbackEvent(postbackData, { userId: USER_A, replyToken });
    for (const isRedelivery of [false, false, true]) {
      const body = webhookBody([{ ...event, deliveryContext: { isRedelivery } }]);
      expect((await postWebhook(stack.relayUrl, body, TEST_CHANNEL_SECRET)).status).toBe(200);
    }
    await webhookEventsDone(1);
    await stack.relay.worker.idle();
    expect(puts()).toHaveLength(1);
    expect(stack.kintone.comments(stack.demoAppId, recordId)).toHaveLength(1);
    expect(replies()).toHaveLength(1);
  });

  it("two taps by the same user: one write; the second reply says it was already recorded", async () => {
    const { recordId, postbackData } = await deliverOrder();
    await tap(postbackData, USER_A);
    await tap(postbackData, USER_A);
    await webhookEventsDone(2);
    await stack.relay.worker.idle();
    expect(puts()).toHaveLength(1);
    expect(stack.kintone.comments(stack.demoAppId, recordId)).toHaveLength(1);
    expect(replyTexts()).toEqual(["Thanks, we noted it.", expect.stringContaining("already")]);
  });

  it("runs one user's events in timestamp order, whatever order they arrive in", async () => {
    const { postbackData } = await deliverOrder();
    const now = Date.now();
    const early = postbackEvent(postbackData, { userId: USER_A, replyToken: stack.line.issueReplyToken({ userId: USER_A }), timestamp: now - 2000 });
    const late = postbackEvent(postbackData, { userId: USER_A, replyToken: stack.line.issueReplyToken({ userId: USER_A }), timestamp: now });
    // LINE may deliver out of order: the later tap arrives first, even in the same request.
    expect((await postWebhook(stack.relayUrl, webhookBody([late, early]), TEST_CHANNEL_SECRET)).status).toBe(200);
    await webhookEventsDone(2);
    // The earlier tap ran first, so it is the one that was recorded.
    const ack = stack.store.db.prepare(`SELECT event_id, tapped_at FROM acknowledgements`).get();
    expect(ack).toEqual({ event_id: early.webhookEventId, tapped_at: early.timestamp });
    const outcomes = stack.store.db.prepare(`SELECT event_id, outcome FROM webhook_events`).all();
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { event_id: early.webhookEventId, outcome: "acknowledged" },
        { event_id: late.webhookEventId, outcome: "already recorded" },
      ]),
    );
  });

  it("one request carrying several events handles every one of them", async () => {
    const { postbackData } = await deliverOrder(`${USER_A}\n${USER_B}`);
    const events = [USER_A, USER_B].map((userId) =>
      postbackEvent(postbackData, { userId, replyToken: stack.line.issueReplyToken({ userId }) }),
    );
    expect((await postWebhook(stack.relayUrl, webhookBody(events), TEST_CHANNEL_SECRET)).status).toBe(200);
    await webhookEventsDone(2);
    await stack.relay.worker.idle();
    const acks = stack.store.db.prepare(`SELECT user_id, display_name, state FROM acknowledgements ORDER BY display_name`).all();
    expect(acks).toEqual([
      { user_id: USER_A, display_name: "Hanako Yamada", state: "written" },
      { user_id: USER_B, display_name: "Taro Sato", state: "written" },
    ]);
    expect(replies()).toHaveLength(2);
  });

  it("refuses a wrong or missing signature with 401 and stores nothing", async () => {
    const { postbackData } = await deliverOrder();
    const body = webhookBody([postbackEvent(postbackData, { userId: USER_A, replyToken: "r" })]);
    expect((await postWebhook(stack.relayUrl, body, TEST_CHANNEL_SECRET, "d3Jvbmc=")).status).toBe(401);
    expect((await postWebhook(stack.relayUrl, body, TEST_CHANNEL_SECRET, null)).status).toBe(401);
    expect((await postWebhook(stack.relayUrl, body, "another-channel-secret-000000000")).status).toBe(401);
    // Signed over different bytes: one changed character in the body.
    const tampered = await fetch(`${stack.relayUrl}/line/webhook`, {
      method: "POST",
      headers: { "x-line-signature": (await import("../helpers/line-webhook.js")).signBody(body, TEST_CHANNEL_SECRET) },
      body: body.replace(USER_A, STRANGER),
    });
    expect(tampered.status).toBe(401);
    expect(stack.store.db.prepare(`SELECT COUNT(*) AS n FROM webhook_events`).get()).toEqual({ n: 0 });
    expect(puts()).toHaveLength(0);
  });

  it("answers 400 to a signed body that is not JSON or not a webhook, 200 to an empty event list, 413 when too large", async () => {
    expect((await postWebhook(stack.relayUrl, "{not json", TEST_CHANNEL_SECRET)).status).toBe(400);
    expect((await postWebhook(stack.relayUrl, JSON.stringify({ hello: 1 }), TEST_CHANNEL_SECRET)).status).toBe(400);
    const check = await postWebhook(stack.relayUrl, JSON.stringify({ destination: "U" + "0".repeat(32), events: [] }), TEST_CHANNEL_SECRET);
    expect(check.status).toBe(200);
    const huge = JSON.stringify({ destination: "x", events: [], pad: "x".repeat(1_100_000) });
    expect((await postWebhook(stack.relayUrl, huge, TEST_CHANNEL_SECRET)).status).toBe(413);
    expect(stack.store.db.prepare(`SELECT COUNT(*) AS n FROM webhook_events`).get()).toEqual({ n: 0 });
  });

  it("writes nothing for a forged token, a token of another delivery, or a tap by a non-recipient", async () => {
    const first = await deliverOrder(USER_A);
    const second = await deliverOrder(USER_B);
    const [prefix, deliveryId, , mac] = first.postbackData.split(".");
    const forged = [prefix, deliveryId, "other", mac].join(".");

    await tap(forged, USER_A);
    await tap(first.postbackData, USER_B); // B got the second delivery, not the first
    await tap(second.postbackData, STRANGER);
    await webhookEventsDone(3);
    await stack.relay.worker.idle();

    expect(puts()).toHaveLength(0);
    for (const order of [first, second]) {
      expect(stack.kintone.comments(stack.demoAppId, order.recordId)).toHaveLength(0);
      expect(stack.kintone.getRecord(stack.demoAppId, order.recordId)["ack_status"]?.value).toBe("");
    }
    expect(stack.logger.lines.some((line) => line.message.includes("signature is wrong"))).toBe(true);
    expect(replyTexts()).toEqual([expect.stringContaining("not for you"), expect.stringContaining("not for you")]);
  });

  it("kintone answers GAIA_CO02 once, then 503 once: the acknowledgement still lands once", async () => {
    await stack.close();
    await setUp({ retryBaseMs: 50 });
    const { recordId, postbackData } = await deliverOrder();
    stack.kintone.failNext({ method: "PUT", path: "/k/v1/record.json" }, { status: 409, code: "GAIA_CO02", message: "stale" });
    stack.kintone.failNext({ method: "PUT", path: "/k/v1/record.json" }, { status: 503 });
    await tap(postbackData, USER_A);
    await webhookEventsDone(1);
    await stack.relay.worker.idle();
    expect(puts().map((r) => r.status)).toEqual([409, 503, 200]);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_status"]?.value).toBe("Acknowledged");
    expect(stack.kintone.comments(stack.demoAppId, recordId)).toHaveLength(1);
    expect(replies()).toHaveLength(1);
  });

  it("a concurrent edit in kintone is kept: the write re-reads and retries on the new revision", async () => {
    const { recordId, postbackData } = await deliverOrder();
    stack.kintone.staleNextUpdate(stack.demoAppId, Number(recordId), { notes: "edited by staff meanwhile" });
    await tap(postbackData, USER_A);
    await webhookEventsDone(1);
    const record = stack.kintone.getRecord(stack.demoAppId, recordId);
    expect(record["notes"]?.value).toBe("edited by staff meanwhile");
    expect(record["ack_status"]?.value).toBe("Acknowledged");
    expect(puts().map((r) => r.status)).toEqual([409, 200]);
  });
});

describe("reply deadline", () => {
  it("a tap processed after its reply deadline: ack written, no reply call, a log line says why", async () => {
    await setUp({ replyDeadlineMs: 1000 });
    const { recordId, postbackData } = await deliverOrder();
    await tap(postbackData, USER_A, { timestamp: Date.now() - 5000 });
    await webhookEventsDone(1);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_status"]?.value).toBe("Acknowledged");
    expect(replies()).toHaveLength(0);
    expect(stack.line.requests.filter((r) => r.path.includes("/push") || r.path.includes("/multicast"))).toHaveLength(1);
    const line = stack.logger.lines.find((l) => l.message.includes("reply skipped"));
    expect(line).toMatchObject({ level: "warn", deadlineMs: 1000 });
  });
});

describe("follow, unfollow, groups and link codes", () => {
  beforeEach(async () => {
    await setUp();
  });

  it("follow gets the welcome reply; an unfollowed user's next notification is recorded as blocked and not pushed", async () => {
    const replyToken = stack.line.issueReplyToken({ userId: USER_A });
    await postWebhook(stack.relayUrl, webhookBody([followEvent({ userId: USER_A, replyToken })]), TEST_CHANNEL_SECRET);
    await webhookEventsDone(1);
    expect(replyTexts()).toEqual(["Welcome!"]);

    await postWebhook(stack.relayUrl, webhookBody([unfollowEvent({ userId: USER_A })]), TEST_CHANNEL_SECRET);
    await webhookEventsDone(2);

    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "B-1", line_user_id: USER_A });
    const response = await stack.notify(approvalRequest(recordId, demoRuleSet()));
    const { id } = (await response.json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await waitFor(async () => (await stack.store.getNotification(id))?.state === "dispatched", 5000, "dispatch");
    await stack.relay.worker.idle();
    expect(await stack.store.listRecipientOutcomes(id)).toEqual([expect.objectContaining({ recipientId: USER_A, state: "blocked" })]);
    expect(stack.line.requests.filter((r) => r.path === "/v2/bot/message/push")).toHaveLength(0);
  });

  it("a tap in a group by a member of the group the message went to is acknowledged with the member's group profile name", async () => {
    const groupId = "C" + "2".repeat(32);
    stack.line.setGroupMemberProfile(groupId, USER_B, { displayName: "Taro (group)" });
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "G-1", line_user_id: "" });
    const response = await stack.notify(approvalRequest(recordId, demoRuleSet({ fixedIds: [groupId] })));
    expect(response.status).toBe(202);
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await waitFor(() => stack.line.delivered.length === 1, 5000, "the group push");
    expect(stack.line.delivered[0]?.to).toEqual([groupId]);
    const data = /"data":"([^"]+)"/.exec(JSON.stringify(stack.line.delivered[0]?.messages))?.[1] ?? "";
    const replyToken = stack.line.issueReplyToken({ userId: USER_B, groupId });
    await postWebhook(stack.relayUrl, webhookBody([postbackEvent(data, { userId: USER_B, groupId, replyToken })]), TEST_CHANNEL_SECRET);
    await webhookEventsDone(1);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_by"]?.value).toBe("Taro (group)");
    expect(stack.line.requests.some((r) => r.path === `/v2/bot/group/${groupId}/member/${USER_B}`)).toBe(true);
  });

  it("join remembers the group and GET /v1/groups lists it (bearer secret)", async () => {
    const groupId = "C" + "1".repeat(32);
    const join = { type: "join", mode: "active", timestamp: Date.now(), source: { type: "group", groupId }, webhookEventId: "01JOINEVENT0000000000000001", deliveryContext: { isRedelivery: false }, replyToken: "x" };
    await postWebhook(stack.relayUrl, webhookBody([join]), TEST_CHANNEL_SECRET);
    await webhookEventsDone(1);
    const unauthorized = await fetch(`${stack.relayUrl}/v1/groups`);
    expect(unauthorized.status).toBe(401);
    const response = await fetch(`${stack.relayUrl}/v1/groups`, { headers: { authorization: `Bearer ${stack.relaySecret}` } });
    expect(await response.json()).toEqual({ groups: [expect.objectContaining({ id: groupId, kind: "group", state: "joined" })] });
  });

  it("a link code sent by a user writes their ID into the record; reused, wrong and expired codes are refused", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-1", line_user_id: "" });
    const codeFor = async () => {
      const response = await fetch(`${stack.relayUrl}/v1/link-codes`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.relaySecret}`, "content-type": "application/json" },
        body: JSON.stringify({ appId: stack.demoAppId, recordId, field: "line_user_id" }),
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { code: string; expiresAt: string };
    };
    const { code, expiresAt } = await codeFor();
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);

    const send = async (text: string, userId: string) => {
      const replyToken = stack.line.issueReplyToken({ userId });
      await postWebhook(stack.relayUrl, webhookBody([textEvent(text, { userId, replyToken })]), TEST_CHANNEL_SECRET);
    };
    await send(code.toLowerCase().replace("-", " "), USER_A);
    await webhookEventsDone(1);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["line_user_id"]?.value).toBe(USER_A);

    await send(code, USER_B); // reused by someone else
    await send("ABCD-EFG2", USER_B); // never issued
    await webhookEventsDone(3);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["line_user_id"]?.value).toBe(USER_A);
    // No rule set is stored for the app here: RELAY_LANGUAGE (default ja) decides.
    const ja = RELAY_TEXT_CATALOGUE.ja;
    expect(replyTexts()).toEqual([ja.linked, ja.wrongCode, ja.wrongCode]);

    const bad = await fetch(`${stack.relayUrl}/v1/link-codes`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.relaySecret}`, "content-type": "application/json" },
      body: JSON.stringify({ appId: stack.demoAppId, recordId, field: "amount" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("text field");
  });

  it("an expired code is refused, and wrong guesses are rate-limited per user", async () => {
    await stack.close();
    let offset = 0;
    await setUp({ clock: { now: () => Date.now() + offset } });
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-2", line_user_id: "" });
    const response = await fetch(`${stack.relayUrl}/v1/link-codes`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.relaySecret}`, "content-type": "application/json" },
      body: JSON.stringify({ appId: String(stack.demoAppId), recordId, field: "line_user_id" }),
    });
    const { code } = (await response.json()) as { code: string };
    offset = 11 * 60_000;
    const send = async (text: string) => {
      const replyToken = stack.line.issueReplyToken({ userId: USER_A });
      await postWebhook(stack.relayUrl, webhookBody([textEvent(text, { userId: USER_A, replyToken, timestamp: Date.now() + offset })]), TEST_CHANNEL_SECRET);
    };
    await send(code);
    await webhookEventsDone(1);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["line_user_id"]?.value).toBe("");
    for (let i = 0; i < 5; i++) await send("ZZZZ-ZZZ2");
    await webhookEventsDone(6);
    expect(replyTexts().at(-1)).toBe(RELAY_TEXT_CATALOGUE.ja.tooManyCodes);
    expect(replyTexts().filter((t) => t === RELAY_TEXT_CATALOGUE.ja.wrongCode)).toHaveLength(5);
  });
});

describe("body limits without Content-Length", () => {
  it("a chunked body over the limit is refused with 413 without being read whole", async () => {
    await setUp();
    const { request } = await import("node:http");
    const url = new URL(`${stack.relayUrl}/line/webhook`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ hostname: "127.0.0.1", port: url.port, path: url.pathname, method: "POST", headers: { "x-line-signature": "x" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      const chunk = "x".repeat(64 * 1024);
      for (let i = 0; i < 20; i++) req.write(chunk); // 1.25 MB, chunked: no Content-Length
      req.end();
    });
    expect(status).toBe(413);
    expect(stack.store.db.prepare(`SELECT COUNT(*) AS n FROM webhook_events`).get()).toEqual({ n: 0 });
  });
});
