import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { DEMO_API_TOKEN, DEMO_APP_ID } from "../../emulators/demo-app.js";
import type { ProcessDefinition } from "../../emulators/kintone/kintone-emulator.js";
import { postbackEvent, postWebhook, textEvent, webhookBody } from "../helpers/line-webhook.js";
import { ALICE, BOB, startLinkingStack, type LinkingStack } from "../helpers/linking-stack.js";
import { TEST_CHANNEL_SECRET, TEST_RELAY_SECRET, waitFor } from "../helpers/start-stack.js";

/**
 * Approving from LINE as oneself, through real HTTP: the relay, the LINE emulator and the kintone
 * emulator (OAuth, per-user REST, process management with assignee checks). Users are linked with
 * the connect flow itself (linking-stack.ts: `connect`, kintone's OAuth, LINE's account link).
 */
const en = RELAY_TEXT_CATALOGUE.en;
const ALICE_LINE = "U" + "a1".repeat(16);
const BOB_LINE = "U" + "b2".repeat(16);
const DAVE_LINE = "U" + "d4".repeat(16);
const CAROL = { code: "carol", name: "Carol Tanaka" };
const DAVE = { code: "dave", name: "Dave Ito" };

/** Two reviews: any one of three managers, then the director. Carol never connects LINE. */
const PROCESS: ProcessDefinition = {
  enable: true,
  states: ["Draft", "Manager review", "Director review", "Approved", "Rejected"],
  actions: [
    { name: "Submit", from: "Draft", to: "Manager review" },
    { name: "Approve", from: "Manager review", to: "Director review" },
    { name: "Reject", from: "Manager review", to: "Rejected" },
    { name: "Final approval", from: "Director review", to: "Approved" },
  ],
  assignees: {
    "Manager review": { type: "ANY", users: ["alice", "bob", "carol"] },
    "Director review": { type: "ANY", users: ["dave"] },
  },
};

const RULES = {
  version: 1,
  language: "en",
  rules: [
    {
      id: "review",
      name: "Manager review",
      trigger: { actions: [], from: [], to: ["Manager review"] },
      recipients: { fields: [], ids: [], assignees: true },
      message: { title: "Order {{order_no}} needs your review", fields: ["customer", "amount"] },
      buttons: [
        { id: "approve", label: "Approve", action: "Approve" },
        { id: "reject", label: "Reject", action: "Reject", askReason: true },
      ],
      audience: "staff",
    },
    {
      id: "director",
      name: "Director review",
      trigger: { actions: ["Approve"], from: ["Manager review"], to: ["Director review"] },
      recipients: { fields: [], ids: [], assignees: true },
      message: { title: "Order {{order_no}}: your final approval", fields: ["customer", "amount"] },
      buttons: [{ id: "final", label: "Approve", action: "Final approval" }],
      audience: "staff",
    },
  ],
};

let stack: LinkingStack;
beforeEach(async () => {
  stack = await startLinkingStack({ process: PROCESS, users: [CAROL, DAVE] });
});
afterEach(async (context) => {
  if (context.task.result?.state === "fail") for (const line of stack.logger.lines.slice(-30)) console.log(JSON.stringify(line));
  await stack.close();
});

interface FlexPush {
  kind: string;
  to: string[];
  messages: Array<{ altText: string; contents: { footer?: { contents: Array<{ action: { label: string; data?: string } }> } } }>;
}

/** A submitted order: the record in "Manager review" and the plugin's notification of it. */
async function submitOrder(orderNo: string): Promise<string> {
  const { id } = stack.kintone.addRecord(DEMO_APP_ID, { order_no: orderNo, customer: "Sakura Foods", amount: "120000" });
  stack.kintone.runAction(DEMO_APP_ID, id, "Submit");
  const response = await fetch(`${stack.relayUrl}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TEST_RELAY_SECRET}` },
    body: JSON.stringify({ appId: String(DEMO_APP_ID), recordId: id, action: "Submit", status: "Draft", nextStatus: "Manager review", rules: JSON.stringify(RULES) }),
  });
  expect(response.status).toBe(202);
  return id;
}

/** The push of `title` that reached the LINE user (waits for it). */
async function pushTo(lineUserId: string, title: RegExp): Promise<FlexPush> {
  return waitFor(
    () => (stack.line.pushesTo(lineUserId) as unknown as FlexPush[]).find((push) => push.messages.some((m) => title.test(m.altText))),
    10_000,
    `a push matching ${title} to ${lineUserId}`,
  );
}

/** The postback data of the button labelled `label` in a push. */
function buttonData(push: FlexPush, label: string): string {
  const data = push.messages[0]?.contents.footer?.contents.find((b) => b.action.label === label)?.action.data;
  if (!data) throw new Error(`no "${label}" button in the push`);
  return data;
}

/** A tap on a button, as LINE sends it (with a reply token LINE honours); returns that token. */
async function tap(lineUserId: string, data: string): Promise<string> {
  const replyToken = stack.line.issueReplyToken({ userId: lineUserId });
  const response = await postWebhook(stack.relayUrl, webhookBody([postbackEvent(data, { userId: lineUserId, replyToken })]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
  return replyToken;
}

async function say(lineUserId: string, text: string): Promise<string> {
  const replyToken = stack.line.issueReplyToken({ userId: lineUserId });
  const response = await postWebhook(stack.relayUrl, webhookBody([textEvent(text, { userId: lineUserId, replyToken })]), TEST_CHANNEL_SECRET);
  expect(response.status).toBe(200);
  return replyToken;
}

/** The status calls kintone received for a record, with who each acted as. */
function statusCalls(recordId: string) {
  return stack.kintone.requests.filter((r) => r.path === "/k/v1/record/status.json" && String((r.body as { id?: unknown } | undefined)?.id) === recordId);
}

const statusOf = (recordId: string) => {
  const record = stack.kintone.getRecord(DEMO_APP_ID, recordId);
  return { status: record["ステータス"]?.value, assignees: (record["作業者"]?.value as Array<{ code: string }>).map((u) => u.code) };
};

describe("approving from LINE as the kintone user", () => {
  it("notifies only the linked assignees; the one who has not connected is listed as not linked", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    await stack.link(BOB.code, BOB_LINE);
    const recordId = await submitOrder("A-100");

    const push = await pushTo(ALICE_LINE, /A-100 needs your review/);
    expect(push.to.sort()).toEqual([ALICE_LINE, BOB_LINE].sort());
    const reached = stack.line.delivered.filter((d) => d.kind !== "reply").flatMap((d) => d.to);
    expect(reached.sort()).toEqual([ALICE_LINE, BOB_LINE].sort());

    const view = await waitFor(async () => {
      const answer = (await (await stack.v1("GET", `/v1/records/${DEMO_APP_ID}/${recordId}/deliveries`)).json()) as {
        deliveries: Array<{ ruleId: string; recipients: Array<{ id: string; state: string; detail?: string }> }>;
      };
      return answer.deliveries.length > 0 && answer.deliveries[0]?.recipients.every((r) => r.state !== "pending") ? answer : undefined;
    });
    expect(view.deliveries[0]?.recipients).toEqual([
      { id: "Ua1a1…a1a1", state: "sent" },
      { id: "Ub2b2…b2b2", state: "sent" },
      { id: "kintone:carol", state: "not_linked", detail: 'kintone user "carol" has not connected a LINE account' },
    ]);
    // The settings page's tab lists the same.
    const tab = (await (await stack.v1("GET", `/v1/apps/${DEMO_APP_ID}/notifications`)).json()) as { notifications: Array<{ recipients: Array<{ id: string; state: string }> }> };
    expect(tab.notifications[0]?.recipients).toContainEqual(expect.objectContaining({ id: "kintone:carol", state: "not_linked" }));
  });

  it("a non-recipient's tap is refused; the assignee's tap moves the status as that user, with their token; the next assignee is notified", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    await stack.link(DAVE.code, DAVE_LINE);
    const recordId = await submitOrder("A-200");
    const push = await pushTo(ALICE_LINE, /A-200/);
    const approve = buttonData(push, "Approve");

    // Dave is linked but was not sent this message.
    expect(await stack.replyTo(await tap(DAVE_LINE, approve))).toEqual([en.notYours]);
    expect(statusCalls(recordId)).toEqual([]);

    expect(await stack.replyTo(await tap(ALICE_LINE, approve))).toEqual(['Done: “Approve” was taken.']);
    expect(statusOf(recordId)).toEqual({ status: "Director review", assignees: ["dave"] });
    const [call, ...more] = statusCalls(recordId);
    expect(more).toEqual([]);
    expect(call).toMatchObject({ status: 200, actor: { method: "oauth", user: "alice" }, body: { app: String(DEMO_APP_ID), id: recordId, action: "Approve", revision: 3 } });
    expect(call?.headers.authorization).toMatch(/^Bearer /);
    expect(call?.headers["x-cybozu-api-token"]).toBeUndefined();
    // Nothing the relay did for a user went with the API token.
    const asUser = stack.kintone.requests.filter((r) => r.actor?.method === "oauth");
    expect(asUser.every((r) => r.headers["x-cybozu-api-token"] === undefined)).toBe(true);
    expect(stack.kintone.requests.some((r) => r.path === "/k/v1/record/status.json" && r.headers["x-cybozu-api-token"] === DEMO_API_TOKEN)).toBe(false);

    // The next step travels on: the director is notified with the app's stored rules, and approves from LINE too.
    const next = await pushTo(DAVE_LINE, /A-200: your final approval/);
    expect(next.to).toEqual([DAVE_LINE]);
    expect(await stack.replyTo(await tap(DAVE_LINE, buttonData(next, "Approve")))).toEqual(['Done: “Final approval” was taken.']);
    expect(statusOf(recordId).status).toBe("Approved");
    expect(statusCalls(recordId).map((r) => r.actor?.user)).toEqual(["alice", "dave"]);
  });

  it("two assignees tapping at once: one step, one 'already done'; a second tap does not move it again", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    await stack.link(BOB.code, BOB_LINE);
    const recordId = await submitOrder("A-300");
    const approve = buttonData(await pushTo(ALICE_LINE, /A-300/), "Approve");

    const [aliceToken, bobToken] = await Promise.all([tap(ALICE_LINE, approve), tap(BOB_LINE, approve)]);
    const replies = [...(await stack.replyTo(aliceToken)), ...(await stack.replyTo(bobToken))];
    expect(replies.sort()).toEqual(['Done: “Approve” was taken.', en.stepAlreadyDone].sort());
    expect(statusOf(recordId).status).toBe("Director review");
    const moved = statusCalls(recordId).filter((r) => r.status === 200);
    expect(moved).toHaveLength(1);
    const winner = moved[0]?.actor?.user === "alice" ? ALICE_LINE : BOB_LINE;

    // The winner taps again: answered from the stored step, kintone is not asked again.
    const callsBefore = statusCalls(recordId).length;
    expect(await stack.replyTo(await tap(winner, approve))).toEqual([en.stepRepeated]);
    expect(statusCalls(recordId)).toHaveLength(callsBefore);
    expect(statusOf(recordId).status).toBe("Director review");
  });

  it("kintone took the step but its answer was lost: the re-run finds the step was this user's, acts no more, says done once", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    await stack.link(DAVE.code, DAVE_LINE);
    const recordId = await submitOrder("A-350");
    const approve = buttonData(await pushTo(ALICE_LINE, /A-350/), "Approve");
    // Committed by kintone, then the connection drops before the relay hears the answer.
    stack.kintone.dropAfterCommitNext({ method: "PUT", path: "/k/v1/record/status.json" });

    expect(await stack.replyTo(await tap(ALICE_LINE, approve))).toEqual(['Done: “Approve” was taken.']);
    // The re-run made the same call with the revision the claim holds: kintone refused it, nothing moved twice.
    expect(statusCalls(recordId).map((r) => [r.actor?.user, (r.body as { revision: number }).revision])).toEqual([
      ["alice", 3],
      ["alice", 3],
    ]);
    expect(stack.kintone.getRecord(DEMO_APP_ID, recordId)["$revision"]?.value).toBe("5");
    expect(statusOf(recordId).status).toBe("Director review");
    const step = stack.store.db.prepare(`SELECT state, outcome, revision FROM approval_steps`).all();
    expect(step).toEqual([{ state: "done", outcome: "done", revision: 3 }]);
    // The next assignee is notified once.
    await pushTo(DAVE_LINE, /A-350: your final approval/);
    await stack.relay.worker.idle();
    expect(stack.line.pushesTo(DAVE_LINE)).toHaveLength(1);
    expect(stack.line.repliesTo(ALICE_LINE).filter((r) => JSON.stringify(r.messages).includes("Approve"))).toHaveLength(1);
  });

  it("a record moved on in kintone meanwhile: 'already done', no status call, no retry", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    const recordId = await submitOrder("A-400");
    const approve = buttonData(await pushTo(ALICE_LINE, /A-400/), "Approve");
    // Bob rejects it on kintone's own screen before Alice taps.
    stack.kintone.runAction(DEMO_APP_ID, recordId, "Reject", { user: BOB });

    const token = await tap(ALICE_LINE, approve);
    expect(await stack.replyTo(token)).toEqual([en.stepAlreadyDone]);
    expect(statusCalls(recordId)).toEqual([]);
    await stack.relay.worker.idle();
    const events = stack.store.db.prepare(`SELECT outcome, state FROM webhook_events WHERE type = 'postback'`).all() as Array<{ outcome: string; state: string }>;
    expect(events).toEqual([{ state: "done", outcome: 'already done: the record is in "Rejected" now, not "Manager review"' }]);
    expect(stack.store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state <> 'done'`).get()).toEqual({ n: 0 });
  });

  it("a revoked token asks to connect again and never falls back to the API token; the next notification lists the user as not linked", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    await stack.link(BOB.code, BOB_LINE);
    const recordId = await submitOrder("A-500");
    const approve = buttonData(await pushTo(BOB_LINE, /A-500/), "Approve");
    stack.kintone.revokeOAuthTokens(BOB.code);

    expect(await stack.replyTo(await tap(BOB_LINE, approve))).toEqual([en.connectAgain]);
    expect(statusOf(recordId).status).toBe("Manager review");
    expect(statusCalls(recordId).filter((r) => r.status === 200)).toEqual([]);
    expect(stack.kintone.requests.some((r) => r.path === "/k/v1/record/status.json" && r.headers["x-cybozu-api-token"] !== undefined)).toBe(false);
    expect((await stack.store.userLinks.getLinkByKintoneUser(BOB.code))?.state).toBe("reconnect");

    const second = await submitOrder("A-501");
    await pushTo(ALICE_LINE, /A-501/);
    const view = await waitFor(async () => {
      const answer = (await (await stack.v1("GET", `/v1/records/${DEMO_APP_ID}/${second}/deliveries`)).json()) as {
        deliveries: Array<{ recipients: Array<{ id: string; state: string; detail?: string }> }>;
      };
      return answer.deliveries[0]?.recipients.find((r) => r.id === "kintone:bob");
    });
    expect(view).toEqual({ id: "kintone:bob", state: "not_linked", detail: expect.stringContaining("must connect again") });
    expect(stack.line.pushesTo(BOB_LINE).filter((p) => JSON.stringify(p.messages).includes("A-501"))).toEqual([]);
  });

  it("a reason becomes the user's own comment, then the step is taken; 'cancel' stops another", async () => {
    await stack.link(ALICE.code, ALICE_LINE);
    await stack.link(BOB.code, BOB_LINE);
    const recordId = await submitOrder("A-600");
    const reject = buttonData(await pushTo(ALICE_LINE, /A-600/), "Reject");

    expect(await stack.replyTo(await tap(ALICE_LINE, reject))).toEqual(["Please send the reason for “Reject” in this chat within 10 minutes. Send “cancel” to stop."]);
    expect(statusCalls(recordId)).toEqual([]);
    expect(await stack.replyTo(await say(ALICE_LINE, "The price is above the budget."))).toEqual(['Done: “Reject” was taken.']);

    const comments = stack.kintone.comments(DEMO_APP_ID, recordId);
    expect(comments).toEqual([expect.objectContaining({ text: "The price is above the budget.", creator: expect.objectContaining({ code: "alice" }) })]);
    expect(statusOf(recordId).status).toBe("Rejected");
    expect(statusCalls(recordId).map((r) => r.actor?.user)).toEqual(["alice"]);
    // The comment went with Alice's token too.
    const commentCall = stack.kintone.requests.find((r) => r.path === "/k/v1/record/comment.json" && r.effectiveMethod === "POST");
    expect(commentCall?.actor).toEqual(expect.objectContaining({ method: "oauth", user: "alice" }));

    // Bob asks for the reason on another order, then thinks better of it.
    const other = await submitOrder("A-601");
    const bobReject = buttonData(await pushTo(BOB_LINE, /A-601/), "Reject");
    await stack.replyTo(await tap(BOB_LINE, bobReject));
    expect(await stack.replyTo(await say(BOB_LINE, "キャンセル"))).toEqual([en.reasonCancelled]);
    expect(statusOf(other).status).toBe("Manager review");
    expect(stack.kintone.comments(DEMO_APP_ID, other)).toEqual([]);
    // After that his messages are his own again, not a reason: `disconnect` reaches the linking flow (RELAY_LANGUAGE ja).
    expect(await stack.replyTo(await say(BOB_LINE, "disconnect"))).toEqual([RELAY_TEXT_CATALOGUE.ja.disconnected]);
  });
});
