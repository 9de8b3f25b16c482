import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { displayLinkCode, newLinkCode, normalizeLinkCodeInput } from "../../relay/src/webhook/link-codes.js";
import { newEventId, postWebhook, textEvent, webhookBody } from "../helpers/line-webhook.js";
import { startStack, TEST_CHANNEL_SECRET, waitFor, type Stack } from "../helpers/start-stack.js";

/**
 * Link codes: a customer sends the code staff gave them, and the relay writes their LINE user ID
 * into the record. Only text that looks like a code is a try (ordinary chat must not use up the
 * wrong-code allowance); a code is spent only when its write to kintone lands; a code whose record
 * is gone gets a clear answer and is spent.
 */
const USER = "U" + "a".repeat(32);
const OTHER = "U" + "b".repeat(32);

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
});
afterEach(async () => {
  await stack.close();
});

async function issueCode(recordId: string) {
  const response = await fetch(`${stack.relayUrl}/v1/link-codes`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.relaySecret}`, "content-type": "application/json" },
    body: JSON.stringify({ appId: stack.demoAppId, recordId, field: "line_user_id" }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { code: string }).code;
}

/** Sends one text message as LINE would and waits until the relay has processed it. */
async function send(text: string, userId = USER) {
  const replyToken = stack.line.issueReplyToken({ userId });
  const event = textEvent(text, { userId, replyToken, webhookEventId: newEventId() });
  const response = await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
  await waitFor(async () => (await stack.store.getWebhookEvent(event.webhookEventId))?.state === "done", 10_000, `"${text}" processed`);
  return { outcome: (await stack.store.getWebhookEvent(event.webhookEventId))?.outcome, replyToken };
}

const lineIdOf = (recordId: string) => stack.kintone.getRecord(stack.demoAppId, recordId)["line_user_id"]?.value;
const replyTo = (replyToken: string) =>
  stack.line.requests
    .filter((r) => r.path === "/v2/bot/message/reply" && (r.body as { replyToken?: string }).replyToken === replyToken)
    .map((r) => (r.body as { messages: Array<{ text: string }> }).messages.map((m) => m.text).join("\n"));
const allReplies = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/reply");
const toFullWidth = (text: string) => [...text].map((ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).join("");

describe("only text that looks like a link code counts as a try", () => {
  it("ordinary chat (8-letter words included) gets no reply and no wrong-code count; the real code then still links", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-1", line_user_id: "" });
    const code = await issueCode(recordId);
    const chat = ["thursday", "THURSDAY", "hey there", "thankyou", "ありがとうございます", "Sure, see you", "quickest", "ABCDEFGH"];
    for (const text of chat) {
      const { outcome } = await send(text);
      expect(outcome, text).toBe("ignored: not a link code");
    }
    expect(allReplies()).toHaveLength(0);
    expect(await stack.store.countLinkMisses(USER, 0)).toBe(0);

    const { outcome, replyToken } = await send(code);
    expect(outcome).toBe("linked");
    expect(lineIdOf(recordId)).toBe(USER);
    expect(replyTo(replyToken)).toEqual([RELAY_TEXT_CATALOGUE.ja.linked]);
  });

  it("every code the relay issues is one it accepts back, as shown or typed loosely", () => {
    for (let i = 0; i < 2000; i++) {
      const code = newLinkCode();
      expect(normalizeLinkCodeInput(displayLinkCode(code))).toBe(code);
      expect(normalizeLinkCodeInput(code.toLowerCase())).toBe(code);
    }
  });

  it("a code typed in full-width characters, lower case, with spaces around it counts (and links)", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-2", line_user_id: "" });
    const code = await issueCode(recordId);
    const typed = `  ${toFullWidth(code.toLowerCase())}\u3000`;
    expect(typed).not.toContain(code);
    const { outcome } = await send(typed);
    expect(outcome).toBe("linked");
    expect(lineIdOf(recordId)).toBe(USER);
  });

  it("a wrong code that looks like one is answered in RELAY_LANGUAGE (default ja) and counted", async () => {
    const { outcome, replyToken } = await send("ZZZZ-ZZZ2");
    expect(outcome).toBe("refused: wrong code");
    const [reply] = replyTo(replyToken);
    expect(reply).toBe(RELAY_TEXT_CATALOGUE.ja.wrongCode);
    expect(await stack.store.countLinkMisses(USER, 0)).toBe(1);
  });
});

describe("a code is spent only when its write to kintone lands", () => {
  it("a write kintone refuses leaves the code usable: the reply says to try again, and the same code then links", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-3", line_user_id: "" });
    const code = await issueCode(recordId);
    stack.kintone.failNext({ method: "PUT", path: "/k/v1/record.json" }, { status: 400, code: "CB_VA01", message: "Missing or invalid input." });

    const first = await send(code);
    expect(first.outcome).toMatch(/^failed|^refused: write failed/);
    expect(lineIdOf(recordId)).toBe("");
    expect(replyTo(first.replyToken)).toEqual([RELAY_TEXT_CATALOGUE.ja.codeWriteFailed]);
    expect(await stack.store.countLinkMisses(USER, 0)).toBe(0);

    const second = await send(code);
    expect(second.outcome).toBe("linked");
    expect(lineIdOf(recordId)).toBe(USER);
  });

  it("a write that fails for a while (kintone 503) is retried by the same event, which still holds the code; others cannot take it meanwhile", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-4", line_user_id: "" });
    const code = await issueCode(recordId);
    stack.kintone.failNext({ method: "PUT", path: "/k/v1/record.json" }, { status: 503, count: 2 });
    const { outcome } = await send(code);
    expect(outcome).toBe("linked");
    expect(lineIdOf(recordId)).toBe(USER);
    expect(stack.kintone.requests.filter((r) => r.path === "/k/v1/record.json" && r.method === "PUT").length).toBe(3);

    const again = await send(code, OTHER);
    expect(again.outcome).toBe("refused: wrong code");
    expect(lineIdOf(recordId)).toBe(USER);
  });

  it("a claim held by an event that is still pending (a crash mid-write) is found by that event's retry, and refused to anyone else", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "L-5", line_user_id: "" });
    const code = (await issueCode(recordId)).replace("-", "");
    await stack.relay.worker.stop(); // E stays pending, as after a crash
    const now = Date.now();
    // The first run of event E claims the code and "dies" before the write lands.
    await stack.store.storeWebhookEvents([{ eventId: "E-crashed", type: "message", sourceKey: USER, timestamp: now, redelivery: false, body: "{}" }], now);
    const claimed = await stack.store.claimLinkCode(code, USER, "E-crashed", now);
    expect(claimed).toMatchObject({ appId: String(stack.demoAppId), recordId, field: "line_user_id" });
    expect(await stack.store.claimLinkCode(code, OTHER, "E-other", now)).toBeUndefined();
    // E's retry after the restart finds the same claim.
    expect(await stack.store.claimLinkCode(code, USER, "E-crashed", now + 1000)).toMatchObject({ recordId });
    await stack.store.completeLinkCode(code, "E-crashed", now + 2000);
    expect(await stack.store.claimLinkCode(code, OTHER, "E-other", now + 3000)).toBeUndefined();
    // Spent, but a re-run of E (died after the write, before its event was marked done) still finds it.
    expect(await stack.store.claimLinkCode(code, USER, "E-crashed", now + 3000)).toMatchObject({ recordId });
  });
});

describe("a code for a record that no longer exists", () => {
  it("gets a clear reply (in RELAY_LANGUAGE: no rule set is stored) and is spent", async () => {
    const code = await issueCode("987654");
    const { outcome, replyToken } = await send(code);
    expect(outcome).toBe("refused: record missing");
    const [reply] = replyTo(replyToken);
    expect(reply).toBe(RELAY_TEXT_CATALOGUE.ja.codeRecordMissing);
    expect(await stack.store.countLinkMisses(USER, 0)).toBe(0);

    const again = await send(code);
    expect(again.outcome).toBe("refused: wrong code");
  });
});
