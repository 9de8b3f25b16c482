import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEMO_API_TOKEN, demoRuleSet } from "../../emulators/demo-app.js";
import { createKintoneRestClient } from "../../relay/src/kintone/kintone-rest-client.js";
import { createProfileClient } from "../../relay/src/line/profile-client.js";
import { createMemoryLogger } from "../../relay/src/logger.js";
import { createPostbackTokens } from "../../relay/src/postback-token.js";
import type { WebhookEventRow } from "../../relay/src/store/relay-store.js";
import type { PostbackEvent } from "../../relay/src/webhook/event-schemas.js";
import { handlePostback } from "../../relay/src/webhook/handle-postback.js";
import { newEventId, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import {
  approvalRequest,
  startStack,
  TEST_CHANNEL_SECRET,
  TEST_LONG_LIVED_TOKEN,
  TEST_SIGNING_KEY,
  waitFor,
  type Stack,
} from "../helpers/start-stack.js";

/**
 * A message pushed to a group may be acknowledged by whoever taps it in that group: LINE sends
 * the tap with `source: {type: "group", groupId, userId}`, and only members can tap there. A
 * 1:1 tap (`source.type: "user"`) carrying a groupId-like field proves nothing about the group.
 */
const MEMBER = "U" + "b".repeat(32);
const OUTSIDER = "U" + "e".repeat(32);
const GROUP = "C" + "2".repeat(32);
const ROOM = "R" + "3".repeat(32);

let stack: Stack;
beforeEach(async () => {
  stack = await startStack();
  stack.line.setGroupMemberProfile(GROUP, MEMBER, { displayName: "Taro (group)" });
  stack.line.setProfile(OUTSIDER, { displayName: "Outsider" });
});
afterEach(async () => {
  await stack.close();
});

async function deliverTo(chatId: string) {
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "G-9", line_user_id: "" });
  const response = await stack.notify(approvalRequest(recordId, demoRuleSet({ fixedIds: [chatId] })));
  expect(response.status).toBe(202);
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  await waitFor(() => stack.line.delivered.length === 1, 5000, "the push");
  expect(stack.line.delivered[0]?.to).toEqual([chatId]);
  const data = /"data":"([^"]+)"/.exec(JSON.stringify(stack.line.delivered[0]?.messages))?.[1];
  if (!data) throw new Error("no postback data");
  return { recordId, data };
}

async function tapWith(data: string, source: Record<string, string>) {
  const replyToken = stack.line.issueReplyToken({ userId: source.userId });
  const event = {
    type: "postback",
    mode: "active",
    timestamp: Date.now(),
    source,
    webhookEventId: newEventId(),
    deliveryContext: { isRedelivery: false },
    replyToken,
    postback: { data },
  };
  const response = await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
  await waitFor(async () => (await stack.store.getWebhookEvent(event.webhookEventId))?.state === "done", 10_000, "the event processed");
  return (await stack.store.getWebhookEvent(event.webhookEventId))?.outcome;
}

const ackPuts = () => stack.kintone.requests.filter((r) => r.path === "/k/v1/record.json" && r.method === "PUT");
const replyTexts = () =>
  stack.line.requests
    .filter((r) => r.path === "/v2/bot/message/reply")
    .map((r) => (r.body as { messages: Array<{ text: string }> }).messages[0]?.text ?? "");

describe("a group delivery is acknowledged only from a tap in that group", () => {
  it("a 1:1 tap (source.type user) with the group's ID in a groupId field is refused: nothing written, no acknowledgement reply", async () => {
    const { recordId, data } = await deliverTo(GROUP);
    const outcome = await tapWith(data, { type: "user", userId: OUTSIDER, groupId: GROUP });
    // Refused by the event parser (a user source names no group) or by the group rule itself.
    expect(outcome).toMatch(/^(refused: not a recipient|ignored: malformed postback)/);
    expect(ackPuts()).toHaveLength(0);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_by"]?.value).toBe("");
    expect(replyTexts().filter((text) => text.includes("noted"))).toHaveLength(0);
  });

  it("the group rule holds in handlePostback itself, whatever the parser let through", async () => {
    const { recordId, data } = await deliverTo(GROUP);
    const replies: string[][] = [];
    const deps = {
      store: stack.store,
      kintone: createKintoneRestClient({ baseUrl: stack.kintoneUrl, apiTokens: [DEMO_API_TOKEN] }),
      profiles: createProfileClient({ apiBaseUrl: stack.lineUrl, tokens: { getToken: async () => TEST_LONG_LIVED_TOKEN, invalidate: () => undefined } }),
      tokens: createPostbackTokens([TEST_SIGNING_KEY]),
      clock: { now: () => Date.now() },
      logger: createMemoryLogger(),
      timeZone: "Asia/Tokyo",
      replyOnce: async (_row: WebhookEventRow, _token: string | undefined, texts: string[]) => {
        replies.push(texts);
        return "replied";
      },
    };
    const forged = {
      type: "postback",
      mode: "active",
      timestamp: Date.now(),
      source: { type: "user", userId: OUTSIDER, groupId: GROUP },
      webhookEventId: newEventId(),
      deliveryContext: { isRedelivery: false },
      replyToken: "r",
      postback: { data },
    } as unknown as PostbackEvent;
    const row: WebhookEventRow = {
      eventId: forged.webhookEventId,
      type: "postback",
      sourceKey: OUTSIDER,
      timestamp: forged.timestamp,
      redelivery: false,
      body: JSON.stringify(forged),
      receivedAt: Date.now(),
      state: "pending",
      outcome: null,
      replied: false,
    };
    expect(await handlePostback(deps, row, forged)).toBe("refused: not a recipient");
    expect(replies).toEqual([[expect.stringContaining("not for you")]]);
    expect(ackPuts()).toHaveLength(0);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_by"]?.value).toBe("");
  });

  it("a tap in another group by someone not in the delivery is refused", async () => {
    const { data } = await deliverTo(GROUP);
    const outcome = await tapWith(data, { type: "group", groupId: "C" + "7".repeat(32), userId: OUTSIDER });
    expect(outcome).toBe("refused: not a recipient");
    expect(ackPuts()).toHaveLength(0);
  });

  it("a member's tap in the group itself is acknowledged with the member's group name", async () => {
    const { recordId, data } = await deliverTo(GROUP);
    const outcome = await tapWith(data, { type: "group", groupId: GROUP, userId: MEMBER });
    expect(outcome).toBe("acknowledged");
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_by"]?.value).toBe("Taro (group)");
  });

  it("a room delivery is acknowledged from a tap in the room, not from a 1:1 tap naming the room", async () => {
    stack.line.setProfile(MEMBER, { displayName: "Taro" });
    const { recordId, data } = await deliverTo(ROOM);
    expect(await tapWith(data, { type: "user", userId: OUTSIDER, roomId: ROOM })).toMatch(/^(refused: not a recipient|ignored: malformed postback)/);
    expect(ackPuts()).toHaveLength(0);
    expect(await tapWith(data, { type: "room", roomId: ROOM, userId: MEMBER })).toBe("acknowledged");
    expect(ackPuts()).toHaveLength(1);
    expect(stack.kintone.getRecord(stack.demoAppId, recordId)["ack_status"]?.value).toBe("Acknowledged");
  });
});
