import { afterEach, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { postbackEvent, postWebhook, textEvent, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack } from "../helpers/start-stack.js";

const CUSTOMER = "U" + "c".repeat(32);
const STRANGER = "U" + "9".repeat(32);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const CASES = {
  ja: { title: "ご注文 {{order_no}} を承認しました", label: "確認しました", alt: "ご注文 A-7 を承認しました", link: "kintoneで開く" },
  en: { title: "Order {{order_no}} approved", label: "Got it", alt: "Order A-7 approved", link: "Open in kintone" },
} as const;

function ruleSetIn(language: "ja" | "en", audience: "staff" | "customer") {
  const set = demoRuleSet();
  const [rule] = set.rules;
  if (!rule) throw new Error("demo rule set has no rule");
  const { reply: _reply, ...button } = rule.buttons[0] as (typeof rule.buttons)[number];
  const { recordLink: _link, ...message } = rule.message;
  return {
    ...set,
    language,
    rules: [{ ...rule, audience, message: { ...message, title: CASES[language].title }, buttons: [{ ...button, label: CASES[language].label }] }],
  };
}

const pushes = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");
const replyTexts = () =>
  stack.line.requests
    .filter((r) => r.path === "/v2/bot/message/reply")
    .map((r) => (r.body as { messages: Array<{ text: string }> }).messages[0]?.text ?? "");

async function tap(data: string, userId: string) {
  const replyToken = stack.line.issueReplyToken({ userId });
  const response = await postWebhook(stack.relayUrl, webhookBody([postbackEvent(data, { userId, replyToken })]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
}

describe.each(["ja", "en"] as const)("the rule set's language (%s) reaches the LINE user", (language) => {
  it("in the push (alt text, button labels, the kintone link) and in every reply to a tap", async () => {
    stack = await startStack();
    const texts = RELAY_TEXT_CATALOGUE[language];
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-7", customer: "Sakura", line_user_id: CUSTOMER });
    expect((await stack.notify(approvalRequest(recordId, ruleSetIn(language, "staff")))).status).toBe(202);
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    const push = await waitFor(() => pushes()[0], 5000, "the push");

    expect(push.status).toBe(200);
    const body = push.body as { to: string; messages: Array<{ altText: string; contents: { footer: { contents: Array<{ action: Record<string, string> }> } } }> };
    expect(body.to).toBe(CUSTOMER);
    const [message] = body.messages;
    expect(message?.altText).toBe(CASES[language].alt);
    const actions = message?.contents.footer.contents.map((b) => b.action) ?? [];
    expect(actions.map((a) => a.label)).toEqual([CASES[language].label, CASES[language].link]);
    expect(actions[1]?.type).toBe("uri");
    const data = actions[0]?.data ?? "";

    await tap(data, CUSTOMER);
    await waitFor(() => replyTexts().length === 1, 5000, "the first reply");
    await tap(data, CUSTOMER);
    await waitFor(() => replyTexts().length === 2, 5000, "the second reply");
    await tap(data, STRANGER);
    await waitFor(() => replyTexts().length === 3, 5000, "the stranger's reply");
    expect(replyTexts()).toEqual([texts.done, texts.already, texts.notYours]);
  });

  it("leaves the kintone link out of a customer rule by default", async () => {
    stack = await startStack();
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-7", line_user_id: CUSTOMER });
    expect((await stack.notify(approvalRequest(recordId, ruleSetIn(language, "customer")))).status).toBe(202);
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    const push = await waitFor(() => pushes()[0], 5000, "the push");
    const labels = JSON.stringify(push.body);
    expect(labels).toContain(CASES[language].label);
    expect(labels).not.toContain(CASES[language].link);
  });
});

describe("replies no rule set decides follow RELAY_LANGUAGE (default ja)", () => {
  it("a wrong link code is answered in Japanese", async () => {
    stack = await startStack();
    const replyToken = stack.line.issueReplyToken({ userId: CUSTOMER });
    const event = textEvent("ABCD-2345", { userId: CUSTOMER, replyToken });
    expect((await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET)).status).toBe(200);
    await waitFor(() => replyTexts().length === 1, 5000, "the reply");
    expect(replyTexts()).toEqual([RELAY_TEXT_CATALOGUE.ja.wrongCode]);
  });
});
