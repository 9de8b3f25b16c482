import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { DEMO_API_TOKEN, DEMO_APP_ID } from "../../emulators/demo-app.js";
import type { ProcessDefinition } from "../../emulators/kintone/kintone-emulator.js";
import { quickReplyMessage, type QuickChoice } from "../../relay/src/approvals/step-replies.js";
import { createKintoneRestClient } from "../../relay/src/kintone/kintone-rest-client.js";
import { createPostbackTokens } from "../../relay/src/postback-token.js";
import type { WebhookEventRow } from "../../relay/src/store/relay-store.js";
import { handlePostback } from "../../relay/src/webhook/handle-postback.js";
import { newEventId, postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { ALICE, BOB, startLinkingStack, type LinkingStack } from "../helpers/linking-stack.js";
import { TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_RELAY_SECRET, TEST_SIGNING_KEY, waitFor } from "../helpers/start-stack.js";

/**
 * kintone wants the next assignee named (GAIA_SA01: the next status lets the actor pick one of
 * several). The relay answers with the candidates of the app's process as quick replies and names
 * the chosen one in the status call: first through the relay as composed (real HTTP, LINE's
 * emulator validating the reply), then the tap handler alone with a recording reply side, to see
 * who may choose and what a second choice does.
 */
const en = RELAY_TEXT_CATALOGUE.en;
const ALICE_LINE = "U" + "a1".repeat(16);
const BOB_LINE = "U" + "b2".repeat(16);
const DAVE_LINE = "U" + "d4".repeat(16);
const DAVE = { code: "dave", name: "Dave Ito" };
const ERIN = { code: "erin", name: "Erin Kato" };

const PROCESS: ProcessDefinition = {
  enable: true,
  states: ["Draft", "Manager review", "Director review", "Approved"],
  actions: [
    { name: "Submit", from: "Draft", to: "Manager review" },
    { name: "Approve", from: "Manager review", to: "Director review" },
    { name: "Final approval", from: "Director review", to: "Approved" },
  ],
  assignees: {
    "Manager review": { type: "ANY", users: ["alice", "bob"] },
    // 「次のユーザーから作業者を選択」: whoever approves names one of them.
    "Director review": { type: "ONE", users: ["dave", "erin"] },
  },
};

const RULES = {
  version: 1,
  language: "en",
  rules: [
    {
      id: "review",
      trigger: { actions: [], from: [], to: ["Manager review"] },
      recipients: { fields: [], ids: [], assignees: true },
      message: { title: "Order {{order_no}} needs your review", fields: [] },
      buttons: [{ id: "approve", label: "Approve", action: "Approve" }],
    },
    {
      id: "director",
      trigger: { actions: [], from: [], to: ["Director review"] },
      recipients: { fields: [], ids: [], assignees: true },
      message: { title: "Order {{order_no}}: your final approval", fields: [] },
      buttons: [{ id: "final", label: "Approve", action: "Final approval" }],
    },
  ],
};

let stack: LinkingStack;
beforeEach(async () => {
  stack = await startLinkingStack({ process: PROCESS, users: [DAVE, ERIN] });
  await stack.link(ALICE.code, ALICE_LINE);
  await stack.link(BOB.code, BOB_LINE);
  await stack.link(DAVE.code, DAVE_LINE);
});
afterEach(async (context) => {
  if (context.task.result?.state === "fail") for (const line of stack.logger.lines.slice(-30)) console.log(JSON.stringify(line));
  await stack.close();
});

async function submitOrder(orderNo: string): Promise<{ recordId: string; approve: string }> {
  const { id } = stack.kintone.addRecord(DEMO_APP_ID, { order_no: orderNo });
  stack.kintone.runAction(DEMO_APP_ID, id, "Submit");
  const response = await fetch(`${stack.relayUrl}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TEST_RELAY_SECRET}` },
    body: JSON.stringify({ appId: String(DEMO_APP_ID), recordId: id, action: "Submit", status: "Draft", nextStatus: "Manager review", rules: JSON.stringify(RULES) }),
  });
  expect(response.status).toBe(202);
  const push = await waitFor(() => stack.line.pushesTo(ALICE_LINE).find((p) => JSON.stringify(p.messages).includes(orderNo)), 10_000, "the push");
  const message = push.messages[0] as { contents: { footer: { contents: Array<{ action: { label: string; data: string } }> } } };
  const approve = message.contents.footer.contents.find((b) => b.action.label === "Approve")?.action.data;
  if (!approve) throw new Error("no Approve button");
  return { recordId: id, approve };
}

const statusCalls = (recordId: string) =>
  stack.kintone.requests.filter((r) => r.path === "/k/v1/record/status.json" && String((r.body as { id?: unknown } | undefined)?.id) === recordId);

describe("the next assignee, when kintone wants one named", () => {
  it("through the relay as composed: kintone's GAIA_SA01 is answered with the candidates as quick replies; the tapper's choice is named in the step", async () => {
    const { recordId, approve } = await submitOrder("B-100");
    const replyToken = stack.line.issueReplyToken({ userId: ALICE_LINE });
    expect((await postWebhook(stack.relayUrl, webhookBody([postbackEvent(approve, { userId: ALICE_LINE, replyToken })]), TEST_CHANNEL_SECRET)).status).toBe(200);
    // One reply LINE accepted (its emulator validates the body): the question, with a quick reply per candidate.
    const offer = await waitFor(() => stack.line.delivered.find((d) => d.kind === "reply" && d.replyToken === replyToken), 10_000, "the reply");
    const message = offer.messages[0] as { text: string; quickReply: { items: Array<{ action: { type: string; label: string; data: string } }> } };
    expect(message.text).toBe(en.chooseAssignee);
    expect(message.quickReply.items.map((item) => [item.action.type, item.action.label])).toEqual([
      ["postback", "dave"],
      ["postback", "erin"],
    ]);
    expect(statusCalls(recordId).map((r) => [r.actor?.user, r.status])).toEqual([["alice", 400]]);
    expect(stack.kintone.getRecord(DEMO_APP_ID, recordId)["ステータス"]?.value).toBe("Manager review");

    // Alice taps "erin": the step is taken as Alice, naming erin.
    const erin = message.quickReply.items[1]?.action.data ?? "";
    const chooseToken = stack.line.issueReplyToken({ userId: ALICE_LINE });
    expect((await postWebhook(stack.relayUrl, webhookBody([postbackEvent(erin, { userId: ALICE_LINE, replyToken: chooseToken })]), TEST_CHANNEL_SECRET)).status).toBe(200);
    expect(await stack.replyTo(chooseToken)).toEqual(['Done: “Approve” was taken.']);
    expect(statusCalls(recordId).at(-1)).toMatchObject({ status: 200, actor: { user: "alice" }, body: { action: "Approve", assignee: "erin" } });
    const record = stack.kintone.getRecord(DEMO_APP_ID, recordId);
    expect(record["ステータス"]?.value).toBe("Director review");
    expect(record["作業者"]?.value).toEqual([expect.objectContaining({ code: "erin" })]);
  });

  it("with quick replies: the process's candidates are offered, only to the tapper; the choice is named in the step as the user", async () => {
    const { recordId, approve } = await submitOrder("B-200");
    const replies: Array<{ token: string | undefined; texts: string[] }> = [];
    const offers: Array<{ text: string; choices: QuickChoice[] }> = [];
    const deps = {
      store: stack.store,
      kintone: createKintoneRestClient({ baseUrl: stack.kintoneUrl, apiTokens: [DEMO_API_TOKEN] }),
      actAsUser: stack.actAsUser,
      profiles: { displayName: async () => undefined },
      tokens: createPostbackTokens([TEST_SIGNING_KEY]),
      clock: { now: () => Date.now() },
      logger: stack.logger,
      language: "ja" as const,
      replyOnce: async (_row: WebhookEventRow, token: string | undefined, texts: string[]) => {
        replies.push({ token, texts });
        return "replied";
      },
      replyChoices: async (_row: WebhookEventRow, _token: string | undefined, text: string, choices: QuickChoice[]) => {
        offers.push({ text, choices });
        return "replied";
      },
    };
    const tapBy = (userId: string, data: string) => {
      const event = postbackEvent(data, { userId, replyToken: `rt-${newEventId()}` }) as Parameters<typeof handlePostback>[2];
      const row: WebhookEventRow = {
        eventId: event.webhookEventId,
        type: "postback",
        sourceKey: userId,
        timestamp: event.timestamp,
        redelivery: false,
        body: JSON.stringify(event),
        receivedAt: Date.now(),
        state: "pending",
        outcome: null,
        replied: false,
      };
      return handlePostback(deps, row, event);
    };

    expect(await tapBy(ALICE_LINE, approve)).toBe("asked for the next assignee");
    expect(offers).toHaveLength(1);
    const offer = offers[0];
    expect(offer?.text).toBe(en.chooseAssignee);
    expect(offer?.choices.map((c) => [c.label, c.displayText])).toEqual([
      ["dave", "dave"],
      ["erin", "erin"],
    ]);
    // kintone was asked as Alice, refused with GAIA_SA01, and its process read with her token.
    expect(statusCalls(recordId).map((r) => [r.actor?.user, r.status])).toEqual([["alice", 400]]);
    expect(stack.kintone.requests.find((r) => r.path === "/k/v1/app/status.json")?.actor).toMatchObject({ method: "oauth", user: "alice" });
    // The message a quick-reply sender would send is one LINE accepts.
    const validated = await stack.line.app.request("/v2/bot/message/validate/reply", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_LONG_LIVED_TOKEN}` },
      body: JSON.stringify({ messages: [quickReplyMessage(offer?.text ?? "", offer?.choices ?? [])] }),
    });
    expect(validated.status).toBe(200);

    const dave = offer?.choices[0]?.data ?? "";
    // Bob's tap on Alice's choice: refused, nothing sent to kintone.
    expect(await tapBy(BOB_LINE, dave)).toBe("refused: another user's choice");
    expect(replies.at(-1)?.texts).toEqual([en.notYours]);
    expect(statusCalls(recordId)).toHaveLength(1);

    expect(await tapBy(ALICE_LINE, dave)).toBe("step taken");
    expect(replies.at(-1)?.texts).toEqual(['Done: “Approve” was taken.']);
    const named = statusCalls(recordId).at(-1);
    expect(named).toMatchObject({ status: 200, actor: { user: "alice" }, body: { action: "Approve", assignee: "dave", revision: 3 } });
    const record = stack.kintone.getRecord(DEMO_APP_ID, recordId);
    expect(record["ステータス"]?.value).toBe("Director review");
    expect(record["作業者"]?.value).toEqual([expect.objectContaining({ code: "dave" })]);
    // The chosen director is notified by the relay's own worker.
    await waitFor(() => stack.line.pushesTo(DAVE_LINE).find((p) => JSON.stringify(p.messages).includes("B-200: your final approval")), 10_000, "the director's push");

    // A second tap on a choice: answered from the step, kintone not asked again.
    expect(await tapBy(ALICE_LINE, offer?.choices[1]?.data ?? "")).toBe("already: done");
    expect(replies.at(-1)?.texts).toEqual([en.stepRepeated]);
    expect(statusCalls(recordId)).toHaveLength(2);
  });
});
