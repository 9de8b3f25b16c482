import { expect, it } from "vitest";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";
import { held } from "../helpers/held-job.js";

it("pruning forgets old finished jobs and webhook events, and keeps what is pending or recent", async () => {
  const store = openSqliteStore(":memory:");
  const day = 24 * 60 * 60_000;
  const now = Date.now();
  const old = now - 10 * day;
  const event = (id: string, timestamp: number) => ({ eventId: id, type: "follow", sourceKey: "U1", timestamp, redelivery: false, body: "{}" });
  await store.storeWebhookEvents([event("old", old), event("new", now)], old);
  const oldJob = await store.claimJob(old + 1, 1000);
  expect(oldJob).toBeDefined();
  await store.finishWebhookEvent(held(oldJob), "old", "done");
  await store.storeWebhookEvents([event("recent", now)], now);
  const removed = await store.pruneFinished(now - 7 * day);
  expect(removed).toBe(2); // the old event and its job
  const left = store.db.prepare("SELECT event_id FROM webhook_events ORDER BY event_id").all();
  expect(left).toEqual([{ event_id: "new" }, { event_id: "recent" }]);
  await store.close();
});
