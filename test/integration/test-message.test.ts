import { afterEach, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { startStack, type Stack } from "../helpers/start-stack.js";

const USER = "U" + "5a".repeat(16);
const GROUP = "C" + "7b".repeat(16);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

function ruleSetIn(language: "ja" | "en", title: string) {
  const set = demoRuleSet();
  const [rule] = set.rules;
  if (!rule) throw new Error("demo rule set has no rule");
  return { ...set, language, rules: [{ ...rule, message: { ...rule.message, title } }] };
}

/** What the settings page sends through kintone.proxy: the app's key and X-Relay-App. */
function call(method: "POST" | "PUT", path: string, body: unknown, appId = String(stack.demoAppId), keyApp = appId) {
  return fetch(`${stack.relayUrl}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${deriveAppKey(stack.relaySecret, keyApp)}`,
      "x-relay-app": keyApp,
    },
    body: JSON.stringify(body),
  });
}

const testMessage = (body: Record<string, unknown>, appId = String(stack.demoAppId), keyApp = appId) =>
  call("POST", `/v1/apps/${appId}/test-message`, body, appId, keyApp);

const pushes = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");
type PushBody = { to: string; messages: Array<{ type: string; altText: string; contents: { footer?: { contents: Array<{ action: { label: string } }> } } }> };

describe("POST /v1/apps/{appId}/test-message", () => {
  it("pushes the stored rule's message, built from the record, in the rule set's language, and answers with what LINE said", async () => {
    stack = await startStack();
    const rules = JSON.stringify(ruleSetIn("ja", "ご注文 {{order_no}} を承認しました"));
    expect((await call("PUT", `/v1/apps/${stack.demoAppId}/rules`, { rules })).status).toBe(200);
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "T-1", customer: "Sakura" });

    const response = await testMessage({ ruleId: "approved", recordId, to: USER });
    const answer = (await response.json()) as { sent: boolean; to: string; language: string; line: { status: number; requestId: string; sentMessages: Array<{ id: string }> } };
    expect(response.status).toBe(200);

    const [push] = pushes();
    expect(pushes()).toHaveLength(1);
    const body = push?.body as PushBody;
    expect(body.to).toBe(USER);
    expect(body.messages[0]?.type).toBe("flex");
    expect(body.messages[0]?.altText).toBe("ご注文 T-1 を承認しました");
    expect(push?.headers["x-line-retry-key"]).toMatch(/^[0-9a-f-]{36}$/);
    // What LINE answered, passed on.
    expect(answer).toMatchObject({ sent: true, to: USER, language: "ja", line: { status: 200, requestId: push?.requestId } });
    expect(answer.line.sentMessages.map((m) => m.id)).toEqual(stack.line.pushesTo(USER)[0]?.sentMessages.map((m) => m.id));
  });

  it("uses the rule set on screen when one is sent (to a group), not the stored one", async () => {
    stack = await startStack();
    expect((await call("PUT", `/v1/apps/${stack.demoAppId}/rules`, { rules: JSON.stringify(ruleSetIn("ja", "保存済み {{order_no}}")) })).status).toBe(200);
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "T-2" });
    const onScreen = JSON.stringify(ruleSetIn("en", "On screen {{order_no}}"));

    const response = await testMessage({ ruleId: "approved", recordId: Number(recordId), to: GROUP, rules: onScreen });
    expect(response.status).toBe(200);
    const body = pushes()[0]?.body as PushBody;
    expect(body.to).toBe(GROUP);
    expect(body.messages[0]?.altText).toBe("On screen T-2");
  });

  it("tries again with the same body and retry key when LINE fails for a moment", async () => {
    stack = await startStack();
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "T-3" });
    stack.line.failNext("push", { status: 500 });

    const response = await testMessage({ ruleId: "approved", recordId, to: USER, rules: JSON.stringify(ruleSetIn("en", "Order {{order_no}}")) });
    expect(response.status).toBe(200);
    const [first, second] = pushes();
    expect(pushes()).toHaveLength(2);
    expect(second?.headers["x-line-retry-key"]).toBe(first?.headers["x-line-retry-key"]);
    expect(second?.rawBody).toBe(first?.rawBody);
    expect(stack.line.pushesTo(USER)).toHaveLength(1);
  });

  it("passes LINE's refusal on: 502 with LINE's message", async () => {
    stack = await startStack();
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "T-4" });
    stack.line.failNext("push", { status: 400, body: { message: "The property, 'to', in the request body is invalid" } });

    const response = await testMessage({ ruleId: "approved", recordId, to: USER, rules: JSON.stringify(ruleSetIn("en", "Order {{order_no}}")) });
    expect(response.status).toBe(502);
    const answer = (await response.json()) as { error: { code: string; message: string }; line: { status: number } };
    expect(answer.error.code).toBe("line_rejected");
    expect(answer.error.message).toContain("The property, 'to', in the request body is invalid");
    expect(answer.line.status).toBe(400);
    expect(pushes()).toHaveLength(1);
  });

  it("refuses, pushing nothing: another app's key, a malformed ID, an unknown rule, a missing record, no rule set", async () => {
    stack = await startStack();
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "T-5" });
    const rules = JSON.stringify(ruleSetIn("en", "Order {{order_no}}"));

    const wrongApp = await testMessage({ ruleId: "approved", recordId, to: USER, rules }, String(stack.demoAppId), "999");
    expect(wrongApp.status).toBe(403);
    expect(((await wrongApp.json()) as { error: { code: string } }).error.code).toBe("wrong_app");

    const badTo = await testMessage({ ruleId: "approved", recordId, to: "hello", rules });
    expect(badTo.status).toBe(400);
    expect(((await badTo.json()) as { error: { message: string } }).error.message).toContain("to:");

    const unknownRule = await testMessage({ ruleId: "nope", recordId, to: USER, rules });
    expect(unknownRule.status).toBe(404);
    expect(((await unknownRule.json()) as { error: { code: string } }).error.code).toBe("unknown_rule");

    const missing = await testMessage({ ruleId: "approved", recordId: "98765", to: USER, rules });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("record_missing");

    const noRules = await testMessage({ ruleId: "approved", recordId, to: USER });
    expect(noRules.status).toBe(404);
    expect(((await noRules.json()) as { error: { code: string } }).error.code).toBe("no_rules");

    const misfit = JSON.stringify(ruleSetIn("en", "Order {{no_such_field}}"));
    const refused = await testMessage({ ruleId: "approved", recordId, to: USER, rules: misfit });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("{{no_such_field}}");

    expect(pushes()).toHaveLength(0);
  });
});
