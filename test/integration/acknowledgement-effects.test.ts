import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import type { KintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import type { LineEmulator } from "../../emulators/line/line-emulator.js";
import { postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { startProcessStack } from "../helpers/relay-process.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor } from "../helpers/start-stack.js";

// The issue's case: the comment names a field the write-back changes.
const COMMENT = "Ack {{ack_status}} by {{lineName}}";
const USER = "U" + "a".repeat(32);
const COMMENT_PATH = "/k/v1/record/comment.json";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function ruleSet(options: { comment?: string; timeZone?: string } = {}) {
  const rules = demoRuleSet();
  const button = rules.rules[0]?.buttons[0];
  if (!button) throw new Error("the demo rule set lost its button");
  button.writeBack.comment = options.comment ?? COMMENT;
  return options.timeZone ? { ...rules, timeZone: options.timeZone } : rules;
}

/** Notifies a new order through the relay and returns the postback data of the pushed button. */
async function deliverOrder(relayUrl: string, relaySecret: string, line: LineEmulator, kintone: KintoneEmulator, appId: number, rules: unknown) {
  const { id: recordId } = kintone.addRecord(appId, { order_no: "A-7", customer: "Sakura", line_user_id: USER });
  const response = await fetch(`${relayUrl}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${relaySecret}` },
    body: JSON.stringify(approvalRequest(recordId, rules)),
  });
  expect(response.status).toBe(202);
  kintone.runAction(appId, recordId, "Approve");
  await waitFor(() => line.delivered.length === 1, 15_000, "the push");
  const postbackData = /"data":"([^"]+)"/.exec(JSON.stringify(line.delivered[0]?.messages))?.[1];
  if (!postbackData) throw new Error("no postback data in the pushed message");
  return { recordId, postbackData };
}

const commentPosts = (kintone: KintoneEmulator) => kintone.requests.filter((r) => r.method === "POST" && r.path === COMMENT_PATH);
const recordPuts = (kintone: KintoneEmulator) => kintone.requests.filter((r) => r.method === "PUT" && r.path === "/k/v1/record.json");

it(
  "kintone stores the comment, the relay is killed before it hears the answer, LINE redelivers: one comment, the first attempt's text and values",
  { timeout: 90_000 },
  async () => {
    const stack = await startProcessStack({ LOG_LEVEL: "warn", RELAY_TIMEZONE: "Asia/Tokyo" });
    cleanups.push(() => stack.close());
    const { line, kintone } = stack;
    line.setProfile(USER, { displayName: "Hanako Yamada" });
    let relay = await stack.start();
    const { recordId, postbackData } = await deliverOrder(relay.url, stack.relaySecret, line, kintone, stack.appId, ruleSet());

    // kintone commits the comment, then the relay dies before the answer reaches it.
    const first = relay;
    kintone.dropAfterCommitNext({ method: "POST", path: COMMENT_PATH }, { onCommitted: () => void first.child.kill("SIGKILL") });
    const event = postbackEvent(postbackData, { userId: USER, replyToken: line.issueReplyToken({ userId: USER }) });
    const answer = await postWebhook(relay.url, webhookBody([event]), stack.channelSecret);
    expect(answer.status).toBe(200);
    expect(await relay.exited).toBe("SIGKILL");
    expect(kintone.comments(stack.appId, recordId).map((c) => c.text)).toEqual(["Ack Acknowledged by Hanako Yamada"]);

    // Meanwhile the user renamed themselves: the re-run must still write the name decided first.
    line.setProfile(USER, { displayName: "Hanako Sato" });
    relay = await stack.start();
    const again = await postWebhook(relay.url, webhookBody([{ ...event, deliveryContext: { isRedelivery: true } }]), stack.channelSecret);
    expect(again.status).toBe(200);
    await waitFor(() => line.delivered.some((d) => d.kind === "reply"), 15_000, "the reply after the re-run");

    expect(kintone.comments(stack.appId, recordId).map((c) => c.text)).toEqual(["Ack Acknowledged by Hanako Yamada"]);
    expect(commentPosts(kintone)).toHaveLength(1);
    const record = kintone.getRecord(stack.appId, recordId);
    expect(record["ack_status"]?.value).toBe("Acknowledged");
    expect(record["ack_by"]?.value).toBe("Hanako Yamada");
    expect(record["ack_at"]?.value).toBe(new Date(Math.floor(event.timestamp / 60_000) * 60_000).toISOString().replace(".000Z", "Z"));
    // The fields landed on the first run; the re-run saw them in place and wrote nothing again.
    expect(recordPuts(kintone)).toHaveLength(1);
  },
);

it("the connection drops after kintone stored the comment: the retry finds it and posts nothing", { timeout: 30_000 }, async () => {
  const stack = await startStack({ retryBaseMs: 50 });
  cleanups.push(() => stack.close());
  stack.line.setProfile(USER, { displayName: "Taro Sato" });
  const { recordId, postbackData } = await deliverOrder(stack.relayUrl, stack.relaySecret, stack.line, stack.kintone, stack.demoAppId, ruleSet());
  stack.kintone.dropAfterCommitNext({ method: "POST", path: COMMENT_PATH });
  const event = postbackEvent(postbackData, { userId: USER, replyToken: stack.line.issueReplyToken({ userId: USER }) });
  expect((await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET)).status).toBe(200);
  await waitFor(() => stack.line.delivered.some((d) => d.kind === "reply"), 15_000, "the reply");

  expect(stack.kintone.comments(stack.demoAppId, recordId).map((c) => c.text)).toEqual(["Ack Acknowledged by Taro Sato"]);
  expect(commentPosts(stack.kintone)).toHaveLength(1);
  // The retry looked for it among the comments instead of posting again.
  expect(stack.kintone.requests.some((r) => r.path === "/k/v1/record/comments.json")).toBe(true);
});

it("a comment of the same text that another acknowledgement already owns is not taken for this one's", { timeout: 30_000 }, async () => {
  const stack = await startStack({ retryBaseMs: 50 });
  cleanups.push(() => stack.close());
  stack.line.setProfile(USER, { displayName: "Taro Sato" });
  const rules = ruleSet({ comment: "Acknowledged on LINE by {{lineName}}" });
  const { recordId, postbackData } = await deliverOrder(stack.relayUrl, stack.relaySecret, stack.line, stack.kintone, stack.demoAppId, rules);
  const tap = async (data: string) => {
    const event = postbackEvent(data, { userId: USER, replyToken: stack.line.issueReplyToken({ userId: USER }) });
    expect((await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET)).status).toBe(200);
  };
  await tap(postbackData);
  await waitFor(() => stack.kintone.comments(stack.demoAppId, recordId).length === 1, 10_000, "the first comment");

  // A second notification of the same record (Ship), same words; its comment POST fails before kintone stores it.
  const second = structuredClone(rules);
  const rule = second.rules[0];
  if (!rule) throw new Error("no rule");
  rule.id = "shipped";
  rule.trigger = { actions: ["Ship"], from: [], to: ["Shipped"] };
  const response = await stack.notify({ ...approvalRequest(recordId, second), action: "Ship", status: "Approved", nextStatus: "Shipped" });
  expect(response.status).toBe(202);
  stack.kintone.runAction(stack.demoAppId, recordId, "Ship");
  await waitFor(() => stack.line.delivered.filter((d) => d.kind !== "reply").length === 2, 10_000, "the second push");
  const pushed = stack.line.delivered.filter((d) => d.kind !== "reply")[1];
  const data = /"data":"([^"]+)"/.exec(JSON.stringify(pushed?.messages))?.[1] ?? "";
  stack.kintone.failNext({ method: "POST", path: COMMENT_PATH }, { status: 503 });
  await tap(data);
  await waitFor(() => stack.kintone.comments(stack.demoAppId, recordId).length === 2, 10_000, "the second comment");
  await waitFor(() => stack.line.delivered.filter((d) => d.kind === "reply").length === 2, 10_000, "both replies");
  expect(stack.kintone.comments(stack.demoAppId, recordId).map((c) => c.text)).toEqual([
    "Acknowledged on LINE by Taro Sato",
    "Acknowledged on LINE by Taro Sato",
  ]);
});

it("write-back and comment dates use the rule set's zone, not RELAY_TIMEZONE", { timeout: 30_000 }, async () => {
  const stack = await startStack({ retryBaseMs: 50 }); // RELAY_TIMEZONE Asia/Tokyo
  cleanups.push(() => stack.close());
  stack.line.setProfile(USER, { displayName: "Taro Sato" });
  const rules = ruleSet({ comment: "Ack by {{lineName}} at {{ack_at}}", timeZone: "America/New_York" });
  const { recordId, postbackData } = await deliverOrder(stack.relayUrl, stack.relaySecret, stack.line, stack.kintone, stack.demoAppId, rules);
  const event = postbackEvent(postbackData, { userId: USER, replyToken: stack.line.issueReplyToken({ userId: USER }) });
  expect((await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET)).status).toBe(200);
  await waitFor(() => stack.kintone.comments(stack.demoAppId, recordId).length === 1, 10_000, "the comment");

  const wall = (timeZone: string) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
        .formatToParts(new Date(event.timestamp))
        .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  };
  expect(wall("America/New_York")).not.toBe(wall("Asia/Tokyo"));
  expect(stack.kintone.comments(stack.demoAppId, recordId).map((c) => c.text)).toEqual([`Ack by Taro Sato at ${wall("America/New_York")}`]);
});
