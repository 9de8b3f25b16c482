import { afterEach, describe, expect, it } from "vitest";
import type { ProcessDefinition } from "../../emulators/kintone/kintone-emulator.js";
import { decideNotifyOnce } from "../../relay/src/notifications/notify-once.js";
import type { NotificationState, NotifiedTransition } from "../../relay/src/store/relay-store.js";
import { openSqliteStore, SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { approvalRequest, startStack, waitFor, type Stack } from "../helpers/start-stack.js";

/**
 * Replay: anyone who can open a record can call kintone.plugin.app.proxy again with the same
 * status change. Each post used to push again, to every recipient. A status change is now
 * notified once per (app, record, rule); only a real new transition notifies again.
 */
const USERS = ["U" + "1".repeat(32), "U" + "2".repeat(32), "U" + "3".repeat(32)];

/** The demo order, with a way back: an approval can be withdrawn (Reject) and given again. */
const REVIEW_PROCESS: ProcessDefinition = {
  enable: true,
  states: ["Submitted", "Approved", "Rejected"],
  actions: [
    { name: "Approve", from: "Submitted", to: "Approved" },
    { name: "Reject", from: "Approved", to: "Rejected" },
    // kintone resolves an action by name among the current status's actions (update-status:
    // "現在のステータスに同名のアクションが複数設定されている場合…エラー"), so one name may start from several statuses.
    { name: "Approve", from: "Rejected", to: "Approved" },
  ],
};

let stack: Stack;

function addOrder() {
  return stack.kintone.addRecord(stack.demoAppId, {
    order_no: "R-1",
    customer: "Sakura Trading",
    amount: "125000",
    line_user_id: USERS.join("\n"),
    priority: "High",
  }).id;
}

/** What reached LINE's push and multicast endpoints: requests, and messages counted per recipient. */
function pushed() {
  const sent = stack.line.delivered.filter((d) => d.kind === "push" || d.kind === "multicast");
  return { requests: sent.length, recipients: sent.reduce((sum, d) => sum + d.to.length, 0), sent };
}

async function post(body: Record<string, unknown>): Promise<string> {
  const response = await stack.notify(body);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function settled(id: string, wanted: NotificationState[] = ["dispatched", "already_notified"]) {
  return waitFor(async () => {
    const row = await stack.store.getNotification(id);
    return row && wanted.includes(row.state) ? row : undefined;
  }, 10_000, `notification ${id} to reach ${wanted.join("/")}`);
}

async function deliveriesView(recordId: string) {
  const response = await fetch(`${stack.relayUrl}/v1/records/${stack.demoAppId}/${recordId}/deliveries`, {
    headers: { authorization: `Bearer ${stack.relaySecret}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { deliveries: Array<{ id: string; recipients: unknown[] }> }).deliveries;
}

describe("a record's status change is notified once", () => {
  afterEach(async () => {
    await stack.close();
  });

  it("pushes once when the same change is posted five times, to each recipient once", async () => {
    stack = await startStack();
    const recordId = addOrder();
    const first = await post(approvalRequest(recordId));
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    expect((await settled(first)).state).toBe("dispatched");
    await waitFor(() => pushed().requests === 1, 10_000, "the first push");

    const replays: string[] = [];
    for (let i = 0; i < 4; i++) replays.push(await post(approvalRequest(recordId)));
    for (const id of replays) {
      expect(id).not.toBe(first);
      const row = await settled(id);
      expect(row.state).toBe("already_notified");
      expect(row.detail).toContain(`skipped: already notified as ${first}`);
    }
    await stack.relay.worker.idle();

    const { requests, recipients, sent } = pushed();
    expect(requests).toBe(1);
    expect(recipients).toBe(USERS.length);
    expect(sent[0]?.kind).toBe("multicast");
    expect([...(sent[0]?.to ?? [])].sort()).toEqual([...USERS].sort());
    const view = await deliveriesView(recordId);
    expect(view).toHaveLength(1);
    expect(view[0]?.recipients).toHaveLength(USERS.length);
  });

  it("notifies again after a real new transition (approved, rejected, approved again), and once only", async () => {
    stack = await startStack({ process: REVIEW_PROCESS });
    const recordId = addOrder();
    const first = await post(approvalRequest(recordId));
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await settled(first);
    await waitFor(() => pushed().requests === 1, 10_000, "the first push");

    stack.kintone.runAction(stack.demoAppId, recordId, "Reject");
    const { revision } = stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    expect(revision).toBe("7"); // 1, +2 approve, +2 reject, +2 approve
    const again = { ...approvalRequest(recordId), status: "Rejected" };
    const second = await post(again);
    expect((await settled(second)).state).toBe("dispatched");
    await waitFor(() => pushed().requests === 2, 10_000, "the second push");

    // The second approval is now the one remembered; replaying it (or the first) sends nothing.
    const replayOfSecond = await post(again);
    const replayOfFirst = await post(approvalRequest(recordId));
    expect((await settled(replayOfSecond)).state).toBe("already_notified");
    expect((await settled(replayOfFirst)).state).toBe("already_notified");
    await stack.relay.worker.idle();

    expect(pushed()).toMatchObject({ requests: 2, recipients: 2 * USERS.length });
    const pushedTitles = pushed().sent.map((d) => JSON.stringify(d.messages));
    expect(pushedTitles.every((json) => json.includes("Order R-1 approved"))).toBe(true);
    expect(await stack.store.listNotifiedTransitions(String(stack.demoAppId), recordId)).toEqual([
      expect.objectContaining({ ruleId: "approved", revision: 7, status: "Approved", notificationId: second }),
    ]);
    expect(await deliveriesView(recordId)).toHaveLength(2);
  });

  it("does not re-arm on edits: a write-back or two saves move the revision, not the status", async () => {
    stack = await startStack();
    const recordId = addOrder();
    const first = await post(approvalRequest(recordId));
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    await settled(first);
    await waitFor(() => pushed().requests === 1, 10_000, "the first push");

    // Two saves: +2, the same step as a status action, yet the status never left "Approved".
    stack.kintone.editRecord(stack.demoAppId, recordId, { notes: "called the customer" });
    stack.kintone.editRecord(stack.demoAppId, recordId, { notes: "called the customer twice" });
    const replay = await post(approvalRequest(recordId));
    const row = await settled(replay);
    expect(row.state).toBe("already_notified");
    await stack.relay.worker.idle();
    expect(pushed().requests).toBe(1);
  });

  it("lets only one of two different requests for the same change notify, even when they run together", async () => {
    stack = await startStack();
    const recordId = addOrder();
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    // Two bodies that differ (so the pending de-duplication does not merge them), same change.
    const a = await post(approvalRequest(recordId));
    const b = await post({ ...approvalRequest(recordId), status: "Draft" });
    expect(a).not.toBe(b);
    const states = [(await settled(a)).state, (await settled(b)).state].sort();
    expect(states).toEqual(["already_notified", "dispatched"]);
    await stack.relay.worker.idle();
    expect(pushed()).toMatchObject({ requests: 1, recipients: USERS.length });
  });

  it("records the change with its deliveries in one transaction: a failure between them leaves neither, and the retry pushes once", async () => {
    stack = await startStack();
    const store = stack.store;
    if (!(store instanceof SqliteStore)) throw new Error("this test reaches into the SQLite store");
    const recordId = addOrder();
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");

    // Writing the replay guard fails after the deliveries and their jobs were inserted: what a
    // crash at that point leaves behind (SQLite rolls back an unfinished transaction on restart).
    store.db.exec(`CREATE TRIGGER replay_guard_fails BEFORE INSERT ON notified_transitions
                   BEGIN SELECT RAISE(ABORT, 'disk I/O error while recording the notified change'); END`);
    const id = await post(approvalRequest(recordId));
    const job = await waitFor(
      () =>
        store.db.prepare(`SELECT attempts, note FROM jobs WHERE kind = 'notification' AND ref_id = ? AND attempts > 0`).get(id) as
          | { attempts: number; note: string }
          | undefined,
      10_000,
      "the failed dispatch to be rescheduled",
    );
    expect(job.note).toContain("disk I/O error while recording the notified change");
    expect((await store.getNotification(id))?.state).toBe("pending");
    expect(await store.listRecordDeliveries(String(stack.demoAppId), recordId)).toEqual([]);
    expect(store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE kind = 'delivery'`).get()).toEqual({ n: 0 });
    expect(await store.listNotifiedTransitions(String(stack.demoAppId), recordId)).toEqual([]);
    expect(pushed().requests).toBe(0);

    store.db.exec(`DROP TRIGGER replay_guard_fails`);
    expect((await settled(id)).state).toBe("dispatched");
    await waitFor(() => pushed().requests === 1, 10_000, "the push after the retry");
    const replay = await post(approvalRequest(recordId));
    expect((await settled(replay)).state).toBe("already_notified");
    await stack.relay.worker.idle();
    expect(pushed()).toMatchObject({ requests: 1, recipients: USERS.length });
  });
});

describe("the store's replay guard", () => {
  it("commits nothing when another notification recorded the same rule's change first", async () => {
    const store = openSqliteStore(":memory:");
    try {
      const input = { appId: "1", recordId: "9", action: "Approve", status: "Submitted", nextStatus: "Approved", rules: "{}" };
      const a = await store.enqueueNotification(input, "key-a", 1);
      const b = await store.enqueueNotification({ ...input, status: "Draft" }, "key-b", 1);
      const [jobA, jobB] = [await store.claimJob(2, 60_000), await store.claimJob(2, 60_000)];
      if (!jobA || !jobB) throw new Error("two notification jobs expected");
      const plan = (id: string) => ({
        id,
        ruleId: "approved",
        ruleName: "Approved",
        method: "push" as const,
        to: [USERS[0] as string],
        body: "{}",
        retryKey: `key-${id}`,
        buttons: "[]",
      });
      // Both decided "never notified" (replaces: null); the second to commit must lose.
      const claim = { ruleId: "approved", revision: 3, status: "Approved", replaces: null };
      expect(await store.dispatchNotification(jobA, a.id, [plan("d_a")], [], 3, [claim])).toEqual({ conflict: false });
      expect(await store.dispatchNotification(jobB, b.id, [plan("d_b")], [], 4, [claim])).toEqual({ conflict: true });

      expect((await store.listRecordDeliveries("1", "9")).map((d) => d.id)).toEqual(["d_a"]);
      expect((await store.getNotification(b.id))?.state).toBe("pending");
      expect(await store.listNotifiedTransitions("1", "9")).toEqual([
        { ruleId: "approved", revision: 3, status: "Approved", notificationId: a.id, notifiedAt: 3 },
      ]);
      // Deciding again on the row as it now stands succeeds (a real later transition).
      const later = { ...claim, revision: 7, replaces: 3 };
      expect(await store.dispatchNotification(jobB, b.id, [plan("d_b")], [], 5, [later])).toEqual({ conflict: false });
      expect(await store.listNotifiedTransitions("1", "9")).toEqual([expect.objectContaining({ revision: 7, notificationId: b.id })]);
    } finally {
      await store.close();
    }
  });
});

describe("decideNotifyOnce", () => {
  const earlier: NotifiedTransition = { ruleId: "r", revision: 3, status: "Approved", notificationId: "n_1", notifiedAt: 0 };
  const change = (revision: number, status = "Approved", claimedFrom = "Submitted") => ({ revision, status, claimedFrom });

  it.each([
    ["nothing notified before", undefined, change(3), true],
    ["the same revision (a replay)", earlier, change(3), false],
    ["an older revision", earlier, change(1), false],
    ["edits only (+1, +2, +3)", earlier, change(6), false],
    ["a round trip out and back (+4)", earlier, change(7, "Approved", "Rejected"), true],
    ["+4 but the request claims no transition", earlier, change(7, "Approved", "Approved"), false],
    ["a different status than notified", earlier, change(5, "Shipped", "Approved"), true],
  ])("%s", (_what, previous, next, notify) => {
    expect(decideNotifyOnce(previous, next).notify).toBe(notify);
  });
});
