import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { createPostbackTokens } from "../../relay/src/postback-token.js";
import { approvalRequest, startStack, TEST_SIGNING_KEY, waitFor, type Stack } from "../helpers/start-stack.js";

const USER_A = "U" + "a".repeat(32);
const USER_B = "U" + "b".repeat(32);
const GROUP = "C" + "c".repeat(32);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const approve = (recordId: number | string, rules: unknown = demoRuleSet()) => approvalRequest(recordId, rules);

function addOrder(values: Record<string, unknown> = {}) {
  return stack.kintone.addRecord(stack.demoAppId, {
    order_no: "A-100",
    customer: "Sakura Trading",
    amount: "125000",
    due_date: "2026-12-01",
    line_user_id: USER_A,
    priority: "High",
    ...values,
  });
}

const countRows = (table: string) =>
  (stack.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

async function notificationState(id: string, wanted: string[]) {
  return waitFor(async () => {
    const row = await stack.store.getNotification(id);
    return row && wanted.includes(row.state) ? row : undefined;
  }, 10_000, `notification ${id} to reach ${wanted.join("/")}`);
}

const pushRequests = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push" || r.path === "/v2/bot/message/multicast");

describe("POST /v1/notifications -> LINE push", () => {
  beforeEach(async () => {
    stack = await startStack();
  });

  it("confirms the status in kintone, then pushes one valid Flex message with title, fields, link and signed buttons", async () => {
    const { id: recordId } = addOrder();
    const response = await stack.notify(approve(recordId));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(/^n_/);

    // The event fires before kintone commits: nothing may be sent until the status really changes.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(pushRequests()).toHaveLength(0);

    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await notificationState(id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 1, 5000, "one delivered push");

    const [request] = pushRequests();
    expect(request?.status).toBe(200);
    expect(request?.headers["x-line-retry-key"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.headers["authorization"]).toMatch(/^Bearer /);
    const body = request?.body as { to: string; messages: Array<Record<string, unknown>> };
    expect(body.to).toBe(USER_A);
    expect(body.messages).toHaveLength(1);
    const message = body.messages[0] as { type: string; altText: string; contents: unknown };
    expect(message.type).toBe("flex");
    expect(message.altText).toContain("Order A-100 approved");

    const json = JSON.stringify(message.contents);
    expect(json).toContain("Order A-100 approved");
    expect(json).toContain("Customer");
    expect(json).toContain("Sakura Trading");
    expect(json).toContain("Due date");
    expect(json).toContain("Approved");
    expect(json).not.toMatch(/"size":"\d+px"/);
    expect(json).toContain(`${stack.kintoneUrl}/k/${stack.demoAppId}/show#record=${recordId}`);

    const postback = findAll(message.contents, (node) => node.type === "postback")[0] as { data: string; label: string };
    expect(postback.label).toBe("Got it");
    expect(postback.data.length).toBeLessThanOrEqual(300);
    const target = createPostbackTokens([TEST_SIGNING_KEY]).verify(postback.data);
    const [delivery] = await stack.store.listRecordDeliveries(String(stack.demoAppId), String(recordId));
    expect(target).toEqual({ deliveryId: delivery?.id, buttonId: "ack" });

    // The same message passes LINE's own validation endpoint.
    const validate = await fetch(`${stack.lineUrl}/v2/bot/message/validate/push`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: request?.headers["authorization"] ?? "" },
      body: JSON.stringify({ messages: body.messages }),
    });
    expect(validate.status).toBe(200);

    const outcomes = await stack.store.listRecipientOutcomes(id);
    expect(outcomes).toEqual([expect.objectContaining({ recipientId: USER_A, state: "sent" })]);
  });

  it("sends several users one multicast and a group its own push", async () => {
    const { id: recordId } = addOrder({ line_user_id: `${USER_A}\n${USER_B}\n` });
    const rules = demoRuleSet({ fixedIds: [GROUP] });
    const response = await stack.notify(approve(recordId, rules));
    const { id } = (await response.json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await notificationState(id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 2, 5000, "two requests delivered");
    const multicast = stack.line.requests.find((r) => r.path === "/v2/bot/message/multicast");
    expect((multicast?.body as { to: string[] }).to).toEqual([USER_A, USER_B]);
    const push = stack.line.requests.find((r) => r.path === "/v2/bot/message/push");
    expect((push?.body as { to: string }).to).toBe(GROUP);
  });

  it("answers 401 to a wrong or missing secret and stores nothing", async () => {
    const { id: recordId } = addOrder();
    const wrong = await stack.notify(approve(recordId), "wrong-secret-wrong-secret-000000");
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const missing = await fetch(`${stack.relayUrl}/v1/notifications`, { method: "POST", body: JSON.stringify(approve(recordId)) });
    expect(missing.status).toBe(401);
    expect(countRows("notifications")).toBe(0);
    expect(countRows("jobs")).toBe(0);
  });

  it("answers 400 naming the rule path of an invalid rule set, and stores nothing", async () => {
    const { id: recordId } = addOrder();
    const rules = demoRuleSet();
    (rules.rules[0]?.buttons[0] as { label: string }).label = "x".repeat(41);
    const response = await stack.notify(approve(recordId, rules));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string; details: Array<{ path: string }> } };
    expect(error.code).toBe("invalid_rules");
    expect(error.details[0]?.path).toBe("rules.rules[0].buttons[0].label");
    expect(error.message).toContain("40");

    const badField = await stack.notify({ ...approve(recordId), recordId: "abc" });
    expect(badField.status).toBe(400);
    expect(((await badField.json()) as { error: { message: string } }).error.message).toContain("recordId");

    const notJson = await stack.notify({ ...approve(recordId), rules: "{not json" });
    expect(notJson.status).toBe(400);
    expect(countRows("notifications")).toBe(0);
  });

  it("answers 413 above 64 KB and stores nothing", async () => {
    const { id: recordId } = addOrder();
    const response = await stack.notify({ ...approve(recordId), padding: "x".repeat(70 * 1024) });
    expect(response.status).toBe(413);
    expect(countRows("notifications")).toBe(0);
  });

  it("gives the same id for the same change while the first is pending, and pushes once", async () => {
    const { id: recordId } = addOrder();
    const first = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    const second = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    expect(second.id).toBe(first.id);
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await notificationState(first.id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 1, 5000, "a push");
    await stack.relay.worker.idle();
    expect(pushRequests()).toHaveLength(1);
  });

  it("ends as 'not confirmed' when the status never changes, and pushes nothing", async () => {
    await stack.close();
    stack = await startStack({ confirmTimeoutMs: 700 });
    const { id: recordId } = addOrder();
    const { id } = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    const row = await notificationState(id, ["not_confirmed", "dispatched"]);
    expect(row.state).toBe("not_confirmed");
    expect(row.detail).toContain('waiting for "Approved"');
    expect(stack.line.requests).toHaveLength(0);
    expect(stack.kintone.requests.filter((r) => r.path === "/k/v1/record.json").length).toBeGreaterThan(1);
  });

  it("ends as 'no match' when a field condition is false on the record kintone holds", async () => {
    const { id: recordId } = addOrder({ priority: "Normal" });
    const rules = demoRuleSet();
    Object.assign(rules.rules[0] as object, { when: { all: [{ field: "priority", op: "eq", value: "High" }] } });
    const { id } = (await (await stack.notify(approve(recordId, rules))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    const row = await notificationState(id, ["no_match", "dispatched"]);
    expect(row.state).toBe("no_match");
    expect(stack.line.requests).toHaveLength(0);
  });

  it("records a malformed recipient as invalid, skips it, and still pushes to the valid one", async () => {
    const { id: recordId } = addOrder({ line_user_id: `not-a-line-id\n${USER_B}` });
    const { id } = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await notificationState(id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 1, 5000, "a push");
    await stack.relay.worker.idle();
    expect(pushRequests().map((r) => (r.body as { to: string }).to)).toEqual([USER_B]);
    const outcomes = await stack.store.listRecipientOutcomes(id);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ recipientId: "not-a-line-id", state: "invalid" }),
        expect.objectContaining({ recipientId: USER_B, state: "sent" }),
      ]),
    );
  });

  it("pushes nothing when every recipient is malformed", async () => {
    const { id: recordId } = addOrder({ line_user_id: "Uxyz" });
    const { id } = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await notificationState(id, ["dispatched"]);
    await stack.relay.worker.idle();
    expect(stack.line.requests).toHaveLength(0);
    expect(await stack.store.listRecipientOutcomes(id)).toEqual([expect.objectContaining({ recipientId: "Uxyz", state: "invalid" })]);
  });
});

describe("LINE failures", () => {
  beforeEach(async () => {
    stack = await startStack({ retryBaseMs: 100 });
  });

  async function approveAndWait() {
    const { id: recordId } = addOrder();
    const { id } = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await notificationState(id, ["dispatched"]);
    return id;
  }

  it("500 then 200: one delivered message, both attempts with the same retry key and body", async () => {
    stack.line.failNext("push", { status: 500 });
    const id = await approveAndWait();
    await waitFor(() => stack.line.delivered.length === 1, 5000, "delivery after retry");
    await stack.relay.worker.idle();
    const attempts = pushRequests();
    expect(attempts.map((r) => r.status)).toEqual([500, 200]);
    expect(attempts[0]?.headers["x-line-retry-key"]).toBe(attempts[1]?.headers["x-line-retry-key"]);
    expect(attempts[0]?.rawBody).toBe(attempts[1]?.rawBody);
    expect(await stack.store.listRecipientOutcomes(id)).toEqual([expect.objectContaining({ state: "sent" })]);
  });

  it("an answer lost after LINE accepted: the retry gets 409 and counts as sent, one message delivered", async () => {
    stack.line.failNextAfterAccepting("push", 500);
    const id = await approveAndWait();
    await waitFor(() => pushRequests().length === 2, 5000, "the retry");
    await stack.relay.worker.idle();
    expect(pushRequests().map((r) => r.status)).toEqual([500, 409]);
    expect(stack.line.delivered).toHaveLength(1);
    expect(await stack.store.listRecipientOutcomes(id)).toEqual([expect.objectContaining({ state: "sent" })]);
  });

  it("429: backs off, then delivers once", async () => {
    stack.line.failNext("push", { status: 429, count: 2 });
    await approveAndWait();
    await waitFor(() => stack.line.delivered.length === 1, 5000, "delivery after 429s");
    const attempts = pushRequests();
    expect(attempts.map((r) => r.status)).toEqual([429, 429, 200]);
    // Exponential backoff with jitter: 50-100 % of 100 ms, then of 200 ms.
    const gap1 = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    const gap2 = (attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0);
    expect(gap1).toBeGreaterThanOrEqual(45);
    expect(gap2).toBeGreaterThanOrEqual(95);
  });

  it("a 400 from LINE fails the delivery with LINE's message and is not retried", async () => {
    stack.line.failNext("push", { status: 400, body: { message: "The request body has 1 error(s)", details: [{ message: "May not be empty", property: "messages[0].text" }] } });
    const id = await approveAndWait();
    await waitFor(async () => (await stack.store.listRecipientOutcomes(id))[0]?.state === "failed", 5000, "failed delivery");
    await stack.relay.worker.idle();
    expect(pushRequests()).toHaveLength(1);
    const [outcome] = await stack.store.listRecipientOutcomes(id);
    expect(outcome?.detail).toContain("May not be empty");
  });
});

describe("stateless channel access tokens", () => {
  it("renews a token before it expires: after 15 minutes the next push uses a new token, with no 401 at all", async () => {
    let offset = 0;
    stack = await startStack({ tokenKind: "stateless", clock: { now: () => Date.now() + offset } });
    const first = addOrder();
    const n1 = (await (await stack.notify(approve(first.id))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, first.id, "Approve");
    await notificationState(n1.id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 1, 5000, "first push");

    offset = 15 * 60_000; // the first token's whole lifetime has passed, for LINE and the relay alike

    const second = addOrder({ order_no: "A-300" });
    const n2 = (await (await stack.notify(approve(second.id))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, second.id, "Approve");
    await notificationState(n2.id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 2, 5000, "second push");
    await stack.relay.worker.idle();
    expect(stack.line.delivered[1]?.accessToken).not.toBe(stack.line.delivered[0]?.accessToken);
    expect(pushRequests().map((r) => r.status)).toEqual([200, 200]);
    expect(stack.line.requests.filter((r) => r.path === "/oauth2/v3/token")).toHaveLength(2);
  });

  it("renews an expired token mid-run: the next push uses a new token and nothing fails", async () => {
    stack = await startStack({ tokenKind: "stateless" });
    const first = addOrder();
    const n1 = (await (await stack.notify(approve(first.id))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, first.id, "Approve");
    await notificationState(n1.id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 1, 5000, "first push");
    const firstToken = stack.line.delivered[0]?.accessToken;

    stack.line.expireAllTokens();

    const second = addOrder({ order_no: "A-200" });
    const n2 = (await (await stack.notify(approve(second.id))).json()) as { id: string };
    stack.kintone.runAction(stack.demoAppId, second.id, "Approve");
    await notificationState(n2.id, ["dispatched"]);
    await waitFor(() => stack.line.delivered.length === 2, 5000, "second push");
    await stack.relay.worker.idle();
    const secondToken = stack.line.delivered[1]?.accessToken;
    expect(secondToken).toBeTruthy();
    expect(secondToken).not.toBe(firstToken);
    expect(stack.line.requests.filter((r) => r.path === "/oauth2/v3/token").length).toBe(2);
    for (const n of [n1.id, n2.id]) {
      expect(await stack.store.listRecipientOutcomes(n)).toEqual([expect.objectContaining({ state: "sent" })]);
    }
  });
});

function findAll(node: unknown, predicate: (node: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
  const found: Array<Record<string, unknown>> = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      if (predicate(value as Record<string, unknown>)) found.push(value as Record<string, unknown>);
      Object.values(value).forEach(walk);
    }
  };
  walk(node);
  return found;
}

describe("kintone refusals", () => {
  it("a token kintone refuses ends the notification as failed with kintone's code, and nothing is pushed", async () => {
    stack = await startStack();
    const { id: recordId } = addOrder();
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    stack.kintone.failNext({ path: "/k/v1/app/form/fields.json" }, { status: 403, code: "GAIA_NO01", message: "Using this API token, you cannot run the specified API." });
    const { id } = (await (await stack.notify(approve(recordId))).json()) as { id: string };
    const row = await notificationState(id, ["failed", "dispatched"]);
    expect(row.state).toBe("failed");
    expect(row.detail).toContain("GAIA_NO01");
    expect(stack.line.requests).toHaveLength(0);
  });
});
