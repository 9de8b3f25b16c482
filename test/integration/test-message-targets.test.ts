import { afterEach, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { newEventId, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack } from "../helpers/start-stack.js";

const GROUP = "C" + "4d".repeat(16);
const OTHER_GROUP = "C" + "e1".repeat(16);
const ROOM = "R" + "9c".repeat(16);
const CUSTOMER = "U" + "a1".repeat(16);
const SECOND = "U" + "b2".repeat(16);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

function joinEvent(source: { type: "group"; groupId: string } | { type: "room"; roomId: string }) {
  return {
    type: "join",
    mode: "active",
    timestamp: Date.now(),
    source,
    webhookEventId: newEventId(),
    deliveryContext: { isRedelivery: false },
    replyToken: "x",
  };
}

const eventsDone = (n: number) =>
  waitFor(
    () => (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM webhook_events WHERE state = 'done'`).get() as { n: number }).n >= n,
    10_000,
    `${n} webhook events processed`,
  );

/** As the settings page asks, through kintone.proxy with the app's key and X-Relay-App. */
function asApp(method: "GET" | "POST", path: string, body?: unknown) {
  const appId = String(stack.demoAppId);
  return fetch(`${stack.relayUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${deriveAppKey(stack.relaySecret, appId)}`,
      "x-relay-app": appId,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

type GroupsAnswer = { groups: Array<{ id: string; kind: string; state: string; name?: string; joinedAt?: string; since: string }> };
const summaryRequests = (groupId: string) => stack.line.requests.filter((r) => r.method === "GET" && r.path === `/v2/bot/group/${groupId}/summary`);

describe("groups by name: LINE's group summary when the bot joins", () => {
  it("a join looks the group's name up and GET /v1/groups lists it; a room is listed without a lookup", async () => {
    stack = await startStack();
    stack.line.setGroupSummary(GROUP, { groupName: "配送チーム", pictureUrl: "https://profile.line-scdn.net/example" });
    await postWebhook(stack.relayUrl, webhookBody([joinEvent({ type: "group", groupId: GROUP }), joinEvent({ type: "room", roomId: ROOM })]), TEST_CHANNEL_SECRET);
    await eventsDone(2);

    const [lookup] = summaryRequests(GROUP);
    expect(summaryRequests(GROUP)).toHaveLength(1);
    expect(lookup?.headers["authorization"]).toMatch(/^Bearer .+/);
    expect(stack.line.requests.some((r) => r.path.includes(ROOM))).toBe(false);

    const response = await asApp("GET", "/v1/groups");
    expect(response.status).toBe(200);
    const { groups } = (await response.json()) as GroupsAnswer;
    expect(groups).toHaveLength(2);
    expect(groups.find((g) => g.id === GROUP)).toMatchObject({ kind: "group", state: "joined", name: "配送チーム", joinedAt: expect.stringMatching(/^\d{4}-/) });
    const room = groups.find((g) => g.id === ROOM);
    expect(room).toMatchObject({ kind: "room", state: "joined" });
    expect(room && "name" in room).toBe(false);
    // Listing asked LINE nothing more: the name is stored, the room has none to ask for.
    expect(summaryRequests(GROUP)).toHaveLength(1);
  });

  it("a failed lookup is retried with the event, and the name arrives", async () => {
    stack = await startStack({ retryBaseMs: 20 });
    stack.line.setGroupSummary(GROUP, { groupName: "Warehouse" });
    stack.line.failNext("summary", { status: 500, count: 2 });
    await postWebhook(stack.relayUrl, webhookBody([joinEvent({ type: "group", groupId: GROUP })]), TEST_CHANNEL_SECRET);
    await eventsDone(1);
    expect(summaryRequests(GROUP).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(await stack.store.listGroups()).toEqual([expect.objectContaining({ groupId: GROUP, state: "joined", name: "Warehouse" })]);
  });

  it("a group LINE could not name at its join is named by the next GET /v1/groups, stored, and not asked again", async () => {
    stack = await startStack();
    // LINE knows no summary yet (404): the join is kept, unnamed.
    await postWebhook(stack.relayUrl, webhookBody([joinEvent({ type: "group", groupId: OTHER_GROUP })]), TEST_CHANNEL_SECRET);
    await eventsDone(1);
    expect(summaryRequests(OTHER_GROUP).map((r) => r.status)).toEqual([404]);
    expect(await stack.store.listGroups()).toEqual([expect.not.objectContaining({ name: expect.anything() })]);

    stack.line.setGroupSummary(OTHER_GROUP, { groupName: "Sales" });
    const first = (await (await asApp("GET", "/v1/groups")).json()) as GroupsAnswer;
    expect(first.groups).toEqual([expect.objectContaining({ id: OTHER_GROUP, name: "Sales" })]);
    expect((await stack.store.listGroups())[0]?.name).toBe("Sales");
    const second = (await (await asApp("GET", "/v1/groups")).json()) as GroupsAnswer;
    expect(second.groups[0]?.name).toBe("Sales");
    expect(summaryRequests(OTHER_GROUP)).toHaveLength(2);
  });
});

describe("POST /v1/apps/{appId}/test-message/recipients: a record's LINE users for a rule", () => {
  it("answers the IDs in the rule's recipient fields of that record, as the worker resolves them", async () => {
    stack = await startStack();
    const rules = JSON.stringify(demoRuleSet({ fixedIds: [GROUP] }));
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "R-1", line_user_id: `${CUSTOMER}\n  ${SECOND}\nnot-an-id\n${CUSTOMER}` });

    const response = await asApp("POST", `/v1/apps/${stack.demoAppId}/test-message/recipients`, { ruleId: "approved", recordId, rules });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ruleId: "approved",
      recordId: String(recordId),
      // The fixed group is not the record's: it is offered under the groups.
      recipients: [
        { field: "line_user_id", userId: CUSTOMER },
        { field: "line_user_id", userId: SECOND },
      ],
      invalid: [{ recipientId: "not-an-id", detail: "not a LINE user, group or room ID (from field line_user_id)" }],
    });
    // Only kintone was asked (the record and the form); LINE was not.
    expect(stack.line.requests).toHaveLength(0);
    expect(stack.kintone.requests.some((r) => r.path === "/k/v1/record.json" && r.method === "GET")).toBe(true);
  });

  it("refuses another app's key, a missing record and an unknown rule", async () => {
    stack = await startStack();
    const rules = JSON.stringify(demoRuleSet());
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "R-2", line_user_id: CUSTOMER });
    const otherApp = await fetch(`${stack.relayUrl}/v1/apps/${stack.demoAppId}/test-message/recipients`, {
      method: "POST",
      headers: { authorization: `Bearer ${deriveAppKey(stack.relaySecret, "999")}`, "x-relay-app": "999", "content-type": "application/json" },
      body: JSON.stringify({ ruleId: "approved", recordId, rules }),
    });
    expect(otherApp.status).toBe(403);
    const missing = await asApp("POST", `/v1/apps/${stack.demoAppId}/test-message/recipients`, { ruleId: "approved", recordId: 9999, rules });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("record_missing");
    const unknown = await asApp("POST", `/v1/apps/${stack.demoAppId}/test-message/recipients`, { ruleId: "nope", recordId, rules });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("unknown_rule");
  });
});

describe("POST /v1/notifications refusals carry the Japanese words", () => {
  it("a rule mistake and a malformed field are refused with `ja` beside the English, and nothing is stored", async () => {
    stack = await startStack();
    const broken = demoRuleSet({ fixedIds: ["hello"] });
    const response = await stack.notify(approvalRequest(1, broken));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: Array<{ path: string; message: string; ja?: string }> } };
    expect(body.error.code).toBe("invalid_rules");
    const detail = body.error.details.find((d) => d.path.startsWith("rules.rules[0].recipients.ids"));
    expect(detail?.message).toMatch(/LINE/);
    expect(detail?.ja).toMatch(/[ぁ-んァ-ン一-龥]/);

    const badField = await stack.notify({ ...approvalRequest(1), recordId: "abc", extra: 1 });
    expect(badField.status).toBe(400);
    const refusal = (await badField.json()) as { error: { code: string; details: Array<{ path: string; message: string; ja?: string }> } };
    expect(refusal.error.code).toBe("invalid_request");
    expect(refusal.error.details).toEqual(
      expect.arrayContaining([
        { path: "recordId", message: expect.any(String), ja: "正の整数で指定してください" },
        { path: "(body)", message: "unknown field(s) extra", ja: "不明な項目「extra」があります" },
      ]),
    );
    expect((stack.store.db.prepare(`SELECT COUNT(*) AS n FROM notifications`).get() as { n: number }).n).toBe(0);
  });
});
