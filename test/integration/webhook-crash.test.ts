import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { startProcessStack } from "../helpers/relay-process.js";
import { waitFor } from "../helpers/start-stack.js";

const TAPS = 200;
let stack: Awaited<ReturnType<typeof startProcessStack>> | undefined;
afterEach(async () => {
  await stack?.close();
});

it("200 taps, relay killed with SIGKILL midway and restarted: 200 acknowledgements, each exactly once", { timeout: 90_000 }, async () => {
  stack = await startProcessStack({ LOG_LEVEL: "warn" });
  const { line, kintone } = stack;
  const DEMO_APP_ID = stack.appId;
  const TEST_CHANNEL_SECRET = stack.channelSecret;
  const TEST_RELAY_SECRET = stack.relaySecret;
  const users = Array.from({ length: TAPS }, (_, i) => "U" + i.toString(16).padStart(32, "0"));
  users.forEach((userId, i) => line.setProfile(userId, { displayName: `Customer ${i}` }));
  const { id: recordId } = kintone.addRecord(DEMO_APP_ID, { order_no: "M-1", line_user_id: users.join("\n") });

  let relay = await stack.start();
  const notify = await fetch(`${relay.url}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TEST_RELAY_SECRET}` },
    body: JSON.stringify({ appId: DEMO_APP_ID, recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules: JSON.stringify(demoRuleSet()) }),
  });
  expect(notify.status).toBe(202);
  kintone.runAction(DEMO_APP_ID, recordId, "Approve");
  await waitFor(() => line.delivered.length === 1, 15_000, "the multicast");
  expect(line.delivered[0]?.to).toHaveLength(TAPS);
  const data = /"data":"([^"]+)"/.exec(JSON.stringify(line.delivered[0]?.messages))?.[1] ?? "";

  // What LINE holds: every event, and whether the relay answered 200 for it.
  const events = users.map((userId) => postbackEvent(data, { userId, replyToken: line.issueReplyToken({ userId }) }));
  const answered = new Set<number>();
  let killed = false;
  const send = async (i: number, url: string, isRedelivery = false) => {
    const event = { ...events[i], deliveryContext: { isRedelivery } };
    try {
      const response = await postWebhook(url, webhookBody([event]), TEST_CHANNEL_SECRET);
      if (response.status === 200) answered.add(i);
    } catch {
      // connection refused or reset: LINE got no answer and will redeliver
    }
  };
  let next = 0;
  const sender = async () => {
    while (next < TAPS) {
      const i = next++;
      await send(i, relay.url);
      if (answered.size >= TAPS / 2 && !killed) {
        killed = true;
        relay.child.kill("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
  expect(await relay.exited).toBe("SIGKILL");
  const commentsAtKill = kintone.comments(DEMO_APP_ID, recordId).length;
  expect(commentsAtKill).toBeLessThan(TAPS);

  relay = await stack.start();
  // LINE redelivers every event it got no 200 for.
  for (let i = 0; i < TAPS; i++) if (!answered.has(i)) await send(i, relay.url, true);
  expect(answered.size).toBe(TAPS);

  await waitFor(() => kintone.comments(DEMO_APP_ID, recordId).length >= TAPS, 60_000, `${TAPS} comments`);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const comments = kintone.comments(DEMO_APP_ID, recordId).map((c) => c.text);
  expect(comments).toHaveLength(TAPS);
  expect(new Set(comments).size).toBe(TAPS);
  for (let i = 0; i < TAPS; i++) expect(comments).toContain(`Acknowledged on LINE by Customer ${i}`);
  const accepted = line.delivered.filter((d) => d.kind === "reply");
  expect(new Set(accepted.map((d) => d.replyToken)).size).toBe(accepted.length);
  expect(accepted.length).toBeGreaterThan(TAPS / 2);
  console.log(`webhook crash: killed after ${commentsAtKill} acks; ${accepted.length} replies accepted (tokens used once each)`);
});
