import { afterEach, expect, it } from "vitest";
import { followEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { startStack, TEST_CHANNEL_SECRET, waitFor, type Stack } from "../helpers/start-stack.js";

const USER = "U" + "c".repeat(32);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const eventRow = (eventId: string) =>
  stack.store.db.prepare(`SELECT state, outcome, replied FROM webhook_events WHERE event_id = ?`).get(eventId) as
    | { state: string; outcome: string | null; replied: number }
    | undefined;
const replies = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/reply");

// A webhook event's end (reply mark, user state, job done) is one commit made with
// synchronous=NORMAL: an OS crash may lose it after LINE accepted the reply. The job then runs
// again; this is that re-run, and LINE's single-use reply token keeps it to one message.
it("a follow whose last commit was lost runs again: its state is stored again and LINE refuses the spent token, so one welcome", async () => {
  stack = await startStack();
  const replyToken = stack.line.issueReplyToken({ userId: USER });
  const event = followEvent({ userId: USER, replyToken });
  expect((await postWebhook(stack.relayUrl, webhookBody([event]), TEST_CHANNEL_SECRET)).status).toBe(200);
  await waitFor(() => eventRow(event.webhookEventId)?.state === "done", 10_000, "the follow processed");
  expect(eventRow(event.webhookEventId)).toEqual({ state: "done", outcome: "user following", replied: 1 });
  expect(stack.store.db.prepare(`SELECT state FROM line_users WHERE user_id = ?`).pluck().get(USER)).toBe("following");
  expect(replies().map((r) => r.status)).toEqual([200]);

  // What the lost commit had written is gone: the event, its job and the user as before it.
  stack.store.db.transaction(() => {
    stack.store.db.prepare(`UPDATE webhook_events SET state = 'pending', outcome = NULL, replied = 0 WHERE event_id = ?`).run(event.webhookEventId);
    stack.store.db.prepare(`UPDATE jobs SET state = 'pending', lease_until = NULL WHERE ref_id = ?`).run(event.webhookEventId);
    stack.store.db.prepare(`DELETE FROM line_users WHERE user_id = ?`).run(USER);
  })();
  stack.relay.worker.wake();
  await waitFor(() => eventRow(event.webhookEventId)?.state === "done", 10_000, "the re-run");

  expect(eventRow(event.webhookEventId)).toEqual({ state: "done", outcome: "user following", replied: 0 });
  expect(stack.store.db.prepare(`SELECT state FROM line_users WHERE user_id = ?`).pluck().get(USER)).toBe("following");
  // The re-run tried the same token once; LINE refused it, and only the first reply reached the user.
  expect(replies().map((r) => [r.status, (r.body as { replyToken: string }).replyToken])).toEqual([
    [200, replyToken],
    [400, replyToken],
  ]);
  expect(stack.line.delivered.filter((d) => d.kind === "reply")).toHaveLength(1);
});
