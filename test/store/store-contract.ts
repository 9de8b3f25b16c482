import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newId } from "../../relay/src/ids.js";
import {
  LeaseLostError,
  type DeliveryPlan,
  type InboundEvent,
  type Job,
  type JobKind,
  type NotificationInput,
  type RecipientOutcome,
  type RelayStore,
  type SkippedRecipient,
} from "../../relay/src/store/relay-store.js";

/**
 * The store contract: every behaviour of RelayStore the relay's flows rely on, asserted through
 * the interface alone (what a call returns and what later reads see), so the SQLite store and the
 * PostgreSQL store are held to the same rules. Each test gets an empty store from `open`.
 * Time moves by passing a later `now`: the interface takes it everywhere, so nothing sleeps.
 */
export function describeStoreContract(name: string, open: () => Promise<{ store: RelayStore; close(): Promise<void> }>): void {
  describe(`${name}: the store contract`, () => {
    let store: RelayStore;
    let closeStore: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      closeStore = () => opened.close();
    });
    afterEach(async () => {
      await closeStore?.();
      closeStore = undefined;
    });

    /** The one job `claimJob` must find due. */
    async function claimOne(now: number, kinds?: readonly JobKind[], leaseMs = LEASE_MS): Promise<Job> {
      const job = await store.claimJob(now, leaseMs, kinds);
      if (!job) throw new Error(`expected a due ${kinds?.join("/") ?? "job"} at ${now}, found none`);
      return job;
    }

    /** A notification of record `recordId` claimed and dispatched as `plans`; its deliveries' jobs are pending. */
    async function dispatched(recordId: string, plans: DeliveryPlan[], skipped: SkippedRecipient[] = [], now = T0) {
      const { id } = await store.enqueueNotification(notificationInput(recordId), `dedup:${recordId}:${now}`, now);
      const job = await claimOne(now, ["notification"]);
      expect(await store.dispatchNotification(job, id, plans, skipped, now)).toEqual({ conflict: false });
      return id;
    }

    /** Claims every due delivery job and returns them by delivery id. */
    async function claimDeliveries(now: number): Promise<Map<string, Job>> {
      const jobs = await store.claimJobs(now, LEASE_MS, ["delivery"], 100);
      return new Map(jobs.map((job) => [job.refId, job]));
    }

    describe("notifications: enqueue and de-duplication", () => {
      it("stores a notification with its job; an identical one while it is pending is the same one", async () => {
        const input = notificationInput("7");
        const first = await store.enqueueNotification(input, "1:7:Approve", T0);
        expect(first).toEqual({ id: expect.any(String), duplicate: false });
        expect(await store.getNotification(first.id)).toEqual({
          id: first.id,
          ...input,
          source: "plugin",
          rulesVersion: null,
          ruleId: null,
          subjectDate: null,
          state: "pending",
          detail: null,
          createdAt: T0,
          updatedAt: T0,
        });
        expect(await store.enqueueNotification(input, "1:7:Approve", T0 + 5)).toEqual({ id: first.id, duplicate: true });
        const other = await store.enqueueNotification(notificationInput("8"), "1:8:Approve", T0 + 6);
        expect(other.duplicate).toBe(false);
        expect(other.id).not.toBe(first.id);
        expect(await store.countUnfinishedJobs()).toBe(2);
        expect(await store.getNotification("n_unknown")).toBeUndefined();
      });

      it("a finished notification does not block a new one with the same key", async () => {
        const first = await store.enqueueNotification(notificationInput("7"), "1:7:Approve", T0);
        const job = await claimOne(T0, ["notification"]);
        await store.finishNotification(job, first.id, "no_match", "no rule matched", T0 + 10);
        const again = await store.enqueueNotification(notificationInput("7"), "1:7:Approve", T0 + 20);
        expect(again.duplicate).toBe(false);
        expect(again.id).not.toBe(first.id);
        expect((await store.getNotification(first.id))?.state).toBe("no_match");
        expect((await store.getNotification(again.id))?.state).toBe("pending");
        expect((await claimOne(T0 + 20, ["notification"])).refId).toBe(again.id);
      });

      it("keeps the source, rule-set version, reminder rule and date a notification was enqueued with", async () => {
        const input: NotificationInput = {
          ...notificationInput("9"),
          source: "schedule",
          rulesVersion: 4,
          ruleId: "reminder-1",
          subjectDate: "2025-01-20",
        };
        const { id } = await store.enqueueNotification(input, "reminder:1:reminder-1:9:2025-01-20", T0);
        expect(await store.getNotification(id)).toMatchObject({ source: "schedule", rulesVersion: 4, ruleId: "reminder-1", subjectDate: "2025-01-20" });
        await store.setNotificationRulesVersion(id, 5);
        expect((await store.getNotification(id))?.rulesVersion).toBe(5);
      });

      it("lists an app's newest notifications first, up to the limit", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) ids.push((await store.enqueueNotification(notificationInput(`${i}`), `k${i}`, T0 + i * 10)).id);
        await store.enqueueNotification({ ...notificationInput("x"), appId: "2" }, "other-app", T0 + 100);
        expect((await store.listAppNotifications("1", 3)).map((row) => row.id)).toEqual([ids[3], ids[2], ids[1]]);
        expect(await store.listAppNotifications("3", 10)).toEqual([]);
      });
    });

    describe("claims", () => {
      it("takes only due jobs, the earliest first, each with a fresh lease", async () => {
        expect(await store.nextDueIn(T0)).toBeUndefined();
        const late = await store.enqueueNotification(notificationInput("1"), "k1", T0 + 300);
        const early = await store.enqueueNotification(notificationInput("2"), "k2", T0 + 100);
        const middle = await store.enqueueNotification(notificationInput("3"), "k3", T0 + 200);
        expect(await store.claimJob(T0 + 50, LEASE_MS)).toBeUndefined();
        expect(await store.nextDueIn(T0 + 50)).toBe(50);

        const first = await claimOne(T0 + 250, ["notification"]);
        expect(first).toEqual({
          id: expect.any(String),
          lease: expect.any(String),
          kind: "notification",
          refId: early.id,
          attempts: 0,
          createdAt: T0 + 100,
          firstFailedAt: null,
          waitingSince: null,
          requestId: null,
        });
        const second = await claimOne(T0 + 250, ["notification"]);
        expect(second.refId).toBe(middle.id);
        expect(second.lease).not.toBe(first.lease);
        // The third is not due before T0 + 300.
        expect(await store.claimJob(T0 + 250, LEASE_MS)).toBeUndefined();
        expect(await store.nextDueIn(T0 + 250)).toBe(50);
        expect((await claimOne(T0 + 300)).refId).toBe(late.id);
      });

      it("takes only the kinds asked for, and the earliest across them", async () => {
        await store.enqueueNotification(notificationInput("1"), "k1", T0 + 100);
        await store.storeWebhookEvents([inboundEvent("e1", "U1", 1)], T0 + 50);
        expect(await store.claimJob(T0 + 200, LEASE_MS, ["delivery"])).toBeUndefined();
        const [earliest] = await store.claimJobs(T0 + 200, LEASE_MS, ["notification", "webhook-event"], 1);
        expect(earliest).toMatchObject({ kind: "webhook-event", refId: "e1" });
        expect(await store.claimJob(T0 + 200, LEASE_MS, ["webhook-event", "delivery"])).toBeUndefined();
        expect((await claimOne(T0 + 200, ["notification"])).kind).toBe("notification");
      });

      it("a batch claim keeps its limit and takes the earliest due jobs", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await store.enqueueNotification(notificationInput(`${i}`), `k${i}`, T0 + (5 - i) * 10)).id);
        // Due order: ids[4] (T0+10), ids[3], ids[2], ids[1], ids[0] (T0+50).
        expect(await store.claimJobs(T0 + 100, LEASE_MS, ["notification"], 0)).toEqual([]);
        const batch1 = await store.claimJobs(T0 + 100, LEASE_MS, ["notification"], 2);
        expect(refIds(batch1)).toEqual([ids[4], ids[3]].sort());
        const batch2 = await store.claimJobs(T0 + 100, LEASE_MS, ["notification"], 2);
        expect(refIds(batch2)).toEqual([ids[2], ids[1]].sort());
        const batch3 = await store.claimJobs(T0 + 100, LEASE_MS, ["notification"], 2);
        expect(refIds(batch3)).toEqual([ids[0]]);
        expect(await store.claimJobs(T0 + 100, LEASE_MS, ["notification"], 2)).toEqual([]);
        expect(await store.countJobsByState()).toEqual([{ kind: "notification", state: "running", count: 5 }]);
      });

      it("two claimers at the same moment never get the same job", async () => {
        for (let i = 0; i < 8; i++) await store.enqueueNotification(notificationInput(`${i}`), `k${i}`, T0);
        const [a, b] = await Promise.all([
          store.claimJobs(T0, LEASE_MS, ["notification"], 5),
          store.claimJobs(T0, LEASE_MS, ["notification"], 5),
        ]);
        const idsA = new Set(a.map((job) => job.id));
        expect(b.filter((job) => idsA.has(job.id))).toEqual([]);
        // Whatever each got, the rest is still there for the next claim, and nothing twice.
        const rest = await store.claimJobs(T0, LEASE_MS, ["notification"], 10);
        const all = [...a, ...b, ...rest];
        expect(all).toHaveLength(8);
        expect(new Set(all.map((job) => job.id)).size).toBe(8);
        // A lease token is drawn per claim (a batch may share one): no two claims hold the same token.
        const sharedLeases = (x: Job[], y: Job[]) => x.filter((job) => y.some((other) => other.lease === job.lease));
        expect(sharedLeases(a, b)).toEqual([]);
        expect(sharedLeases(a, rest)).toEqual([]);
        expect(sharedLeases(b, rest)).toEqual([]);
      });

      it("counts unfinished jobs by kind and state", async () => {
        await store.enqueueNotification(notificationInput("1"), "k1", T0);
        await store.enqueueNotification(notificationInput("2"), "k2", T0);
        await store.storeWebhookEvents([inboundEvent("e1", "U1", 1)], T0);
        await claimOne(T0, ["notification"]);
        expect(sortCounts(await store.countJobsByState())).toEqual([
          { kind: "notification", state: "pending", count: 1 },
          { kind: "notification", state: "running", count: 1 },
          { kind: "webhook-event", state: "pending", count: 1 },
        ]);
        expect(await store.countUnfinishedJobs()).toBe(3);
      });
    });

    describe("leases", () => {
      it("a lapsed lease is taken over under a new token; the old holder's finish, retry and dead letter are refused and change nothing", async () => {
        const { id } = await store.enqueueNotification(notificationInput("7"), "k1", T0);
        const stale = await claimOne(T0, ["notification"], 1_000);
        // Held until T0 + 1000: nobody else takes it before.
        expect(await store.claimJob(T0 + 999, LEASE_MS)).toBeUndefined();
        const current = await claimOne(T0 + 1_001, ["notification"]);
        expect(current.id).toBe(stale.id);
        expect(current.refId).toBe(id);
        expect(current.lease).not.toBe(stale.lease);

        await expectLeaseLost(store.finishNotification(stale, id, "no_match", "late", T0 + 2_000), stale.id);
        await expectLeaseLost(store.retryJob(stale, T0 + 2_000, "late retry", { failed: true, now: T0 + 2_000 }), stale.id);
        await expectLeaseLost(store.deadLetterJob(stale, "late give-up", T0 + 2_000), stale.id);
        await expectLeaseLost(store.finishJob(stale), stale.id);
        await expectLeaseLost(
          store.dispatchNotification(stale, id, [deliveryPlan(["U1"])], [], T0 + 2_000, [{ ruleId: "r1", revision: 3, status: "Approved", replaces: null }]),
          stale.id,
        );

        expect(await store.getNotification(id)).toMatchObject({ state: "pending", detail: null, updatedAt: T0 });
        expect(await store.listDeadLetters()).toEqual([]);
        expect(await store.listRecordDeliveries("1", "7")).toEqual([]);
        expect(await store.listNotifiedTransitions("1", "7")).toEqual([]);
        // Still held by the second holder (the refused retry did not reschedule it).
        expect(await store.claimJob(T0 + 2_000, LEASE_MS)).toBeUndefined();
        expect(await store.countJobsByState()).toEqual([{ kind: "notification", state: "running", count: 1 }]);

        await store.finishNotification(current, id, "no_match", "no rule matched", T0 + 3_000);
        expect(await store.getNotification(id)).toMatchObject({ state: "no_match", detail: "no rule matched", updatedAt: T0 + 3_000 });
        expect(await store.countUnfinishedJobs()).toBe(0);
      });

      it("refuses a delivery's reservation, cap and end from a holder whose lease was taken over", async () => {
        const plan = deliveryPlan(["U1", "U2"]);
        await dispatched("7", [plan]);
        const stale = (await store.claimJobs(T0, 1_000, ["delivery"], 1))[0];
        if (!stale) throw new Error("the delivery's job was not due");
        const current = await claimOne(T0 + 1_001, ["delivery"]);
        expect(current.id).toBe(stale.id);

        await expectLeaseLost(store.reservePush(stale, plan.id, "2025-01", null, T0 + 2_000), stale.id);
        await expectLeaseLost(store.capDeliveryAtLineLimit(stale, plan.id, "2025-01", "LINE 429", T0 + 2_000), stale.id);
        await expectLeaseLost(store.finishDelivery(stale, plan.id, "sent", null, T0 + 2_000), stale.id);
        expect(await store.getDelivery(plan.id)).toMatchObject({ state: "pending", detail: null });
        expect(await store.getPushUsage("2025-01")).toEqual({ month: "2025-01", pushed: 0, lineLimitedAt: null });

        expect(await store.reservePush(current, plan.id, "2025-01", null, T0 + 3_000)).toEqual({ kind: "push", month: "2025-01" });
        await store.finishDelivery(current, plan.id, "sent", null, T0 + 3_000);
        expect(await store.getDelivery(plan.id)).toMatchObject({ state: "sent" });
        expect(await store.getPushUsage("2025-01")).toEqual({ month: "2025-01", pushed: 2, lineLimitedAt: null });
      });

      it("refuses a webhook event's end from a holder whose lease was taken over, with none of its changes", async () => {
        await store.storeWebhookEvents([inboundEvent("e1", "U1", 1)], T0);
        const stale = await claimOne(T0, ["webhook-event"], 1_000);
        const current = await claimOne(T0 + 1_001, ["webhook-event"]);
        expect(current.id).toBe(stale.id);
        await expectLeaseLost(
          store.finishWebhookEvent(stale, "e1", "user blocked", { replied: true, user: { userId: "U1", state: "blocked", at: T0 } }),
          stale.id,
        );
        expect(await store.getWebhookEvent("e1")).toMatchObject({ state: "pending", outcome: null, replied: false });
        expect(await store.isBlocked("U1")).toBe(false);
        await store.finishWebhookEvent(current, "e1", "user blocked", { user: { userId: "U1", state: "blocked", at: T0 } });
        expect(await store.getWebhookEvent("e1")).toMatchObject({ state: "done", outcome: "user blocked" });
        expect(await store.isBlocked("U1")).toBe(true);
      });

      it("extendLeases keeps held leases past their old expiry and returns the ones lost", async () => {
        for (let i = 0; i < 3; i++) await store.enqueueNotification(notificationInput(`${i}`), `k${i}`, T0 + i);
        const [a, b, c] = await store.claimJobs(T0 + 10, 1_000, ["notification"], 3).then(byRunAt);
        if (!a || !b || !c) throw new Error("three jobs were due");
        // All three leases lapse at T0 + 1010. c ends; a is kept alive; b is not.
        await store.finishNotification(c, c.refId, "no_match", "no rule matched", T0 + 100);
        expect(await store.extendLeases([a], T0 + 10_000)).toEqual([]);
        expect(await store.extendLeases([], T0 + 10_000)).toEqual([]);
        const takenOver = await claimOne(T0 + 1_011, ["notification"]);
        expect(takenOver.id).toBe(b.id);

        const lost = await store.extendLeases([a, b, c], T0 + 30_000);
        expect(lost.map((job) => job.id).sort()).toEqual([b.id, c.id].sort());
        expect(lost.find((job) => job.id === b.id)?.lease).toBe(b.lease);
        // a is held until T0 + 30000 and b's new holder until T0 + 61011: nothing is due at T0 + 20000.
        expect(await store.claimJob(T0 + 20_000, LEASE_MS)).toBeUndefined();
        // b's old token did not move its new holder's lease (to T0 + 30000): only a lapses then.
        expect((await store.claimJobs(T0 + 30_001, LEASE_MS, ["notification"], 10)).map((job) => job.id)).toEqual([a.id]);
        expect((await store.claimJobs(T0 + 61_012, LEASE_MS, ["notification"], 10)).map((job) => job.id)).toEqual([b.id]);
      });
    });

    describe("retries", () => {
      it("counts attempts, waits until runAt, and keeps the give-up and wait clocks as the outcome says", async () => {
        const { id } = await store.enqueueNotification(notificationInput("7"), "k1", T0);
        let job = await claimOne(T0);
        const retry = async (runAt: number, outcome?: { failed: boolean; now: number }) => {
          await store.retryJob(job, runAt, "kintone 503", outcome);
          expect(await store.claimJob(runAt - 1, LEASE_MS)).toBeUndefined();
          expect(await store.nextDueIn(runAt - 100)).toBe(100);
          job = await claimOne(runAt);
          expect(job.refId).toBe(id);
          expect(job.createdAt).toBe(T0);
          return job;
        };
        // A failure starts the give-up clock; a second one keeps it.
        expect(await retry(T0 + 1_000, { failed: true, now: T0 + 10 })).toMatchObject({ attempts: 1, firstFailedAt: T0 + 10, waitingSince: null });
        expect(await retry(T0 + 2_000, { failed: true, now: T0 + 1_010 })).toMatchObject({ attempts: 2, firstFailedAt: T0 + 10, waitingSince: null });
        // Waiting without failing stops the give-up clock and starts the wait clock, once.
        expect(await retry(T0 + 3_000, { failed: false, now: T0 + 2_010 })).toMatchObject({ attempts: 3, firstFailedAt: null, waitingSince: T0 + 2_010 });
        expect(await retry(T0 + 4_000, { failed: false, now: T0 + 3_010 })).toMatchObject({ attempts: 4, firstFailedAt: null, waitingSince: T0 + 2_010 });
        // Without an outcome both clocks stay as they are.
        expect(await retry(T0 + 5_000)).toMatchObject({ attempts: 5, firstFailedAt: null, waitingSince: T0 + 2_010 });
        // A failure after waiting starts the give-up clock afresh and stops the wait clock.
        expect(await retry(T0 + 6_000, { failed: true, now: T0 + 5_010 })).toMatchObject({ attempts: 6, firstFailedAt: T0 + 5_010, waitingSince: null });
        expect(await store.getNotification(id)).toMatchObject({ state: "pending" });
      });
    });

    describe("finishing work", () => {
      it("ends a notification that sends nothing, and its job", async () => {
        const { id } = await store.enqueueNotification(notificationInput("7"), "k1", T0);
        const job = await claimOne(T0);
        await store.finishNotification(job, id, "not_confirmed", "the record is not in Approved", T0 + 50);
        expect(await store.getNotification(id)).toMatchObject({ state: "not_confirmed", detail: "the record is not in Approved", updatedAt: T0 + 50 });
        expect(await store.countUnfinishedJobs()).toBe(0);
        expect(await store.claimJob(T0 + 100_000, LEASE_MS)).toBeUndefined();
        expect(await store.nextDueIn(T0 + 100)).toBeUndefined();
      });

      it("finishJob ends a job whose work an earlier run finished, and leaves the work as it is", async () => {
        const { id } = await store.enqueueNotification(notificationInput("7"), "k1", T0);
        const job = await claimOne(T0);
        await store.finishJob(job);
        expect(await store.countUnfinishedJobs()).toBe(0);
        expect(await store.claimJob(T0 + 100_000, LEASE_MS)).toBeUndefined();
        expect((await store.getNotification(id))?.state).toBe("pending");
      });

      it("dispatches a notification once: its deliveries, their jobs, the recipients and the replay guard, together", async () => {
        const { id } = await store.enqueueNotification(notificationInput("7"), "k1", T0);
        const job = await claimOne(T0);
        const push = deliveryPlan(["U1"], { ruleId: "r1", method: "push" });
        const multicast = deliveryPlan(["U2", "U3"], { ruleId: "r2", method: "multicast" });
        const skipped: SkippedRecipient[] = [{ ruleId: "r1", recipientId: "U4", state: "blocked", detail: "the user blocked the channel" }];
        const notified = [{ ruleId: "r1", revision: 5, status: "Approved", replaces: null }];
        expect(await store.dispatchNotification(job, id, [push, multicast], skipped, T0 + 10, notified)).toEqual({ conflict: false });

        expect(await store.getNotification(id)).toMatchObject({ state: "dispatched", updatedAt: T0 + 10 });
        for (const plan of [push, multicast]) {
          expect(await store.getDelivery(plan.id)).toEqual({
            ...plan,
            notificationId: id,
            appId: "1",
            recordId: "7",
            state: "pending",
            attempts: 0,
            detail: null,
            createdAt: T0 + 10,
            updatedAt: T0 + 10,
          });
        }
        expect(sortOutcomes(await store.listRecipientOutcomes(id))).toEqual([
          { ruleId: "r1", recipientId: "U1", deliveryId: push.id, state: "pending", detail: null },
          { ruleId: "r2", recipientId: "U2", deliveryId: multicast.id, state: "pending", detail: null },
          { ruleId: "r2", recipientId: "U3", deliveryId: multicast.id, state: "pending", detail: null },
          { ruleId: "r1", recipientId: "U4", deliveryId: null, state: "blocked", detail: "the user blocked the channel" },
        ]);
        expect(await store.listNotifiedTransitions("1", "7")).toEqual([{ ruleId: "r1", revision: 5, status: "Approved", notificationId: id, notifiedAt: T0 + 10 }]);
        expect((await store.listRecordDeliveries("1", "7")).map((row) => row.id).sort()).toEqual([push.id, multicast.id].sort());
        // The notification's job ended with it; one job per delivery is due.
        expect(await store.countJobsByState()).toEqual([{ kind: "delivery", state: "pending", count: 2 }]);

        // A second dispatch (a re-run) commits nothing, whether it is refused for the ended lease or ignored.
        const again = await store
          .dispatchNotification(job, id, [deliveryPlan(["U9"], { ruleId: "r1" })], [], T0 + 20, [{ ruleId: "r1", revision: 6, status: "Done", replaces: 5 }])
          .then(() => "ignored", (error: unknown) => (error instanceof LeaseLostError ? "refused" : error));
        expect(["ignored", "refused"]).toContain(again);
        expect((await store.listRecordDeliveries("1", "7")).map((row) => row.id).sort()).toEqual([push.id, multicast.id].sort());
        expect(await store.listRecipientOutcomes(id)).toHaveLength(4);
        expect(await store.listNotifiedTransitions("1", "7")).toEqual([{ ruleId: "r1", revision: 5, status: "Approved", notificationId: id, notifiedAt: T0 + 10 }]);
        expect(await store.countJobsByState()).toEqual([{ kind: "delivery", state: "pending", count: 2 }]);

        const jobs = await claimDeliveries(T0 + 30);
        expect([...jobs.keys()].sort()).toEqual([push.id, multicast.id].sort());
        expect(jobs.get(push.id)).toMatchObject({ kind: "delivery", attempts: 0 });
      });

      it("a replay-guard claim that lost the race commits nothing; decided again on the current row, it commits", async () => {
        const first = await store.enqueueNotification(notificationInput("7"), "k1", T0);
        const firstJob = await claimOne(T0);
        await store.dispatchNotification(firstJob, first.id, [deliveryPlan(["U1"], { ruleId: "r1" })], [], T0 + 10, [
          { ruleId: "r1", revision: 5, status: "Approved", replaces: null },
        ]);
        const second = await store.enqueueNotification(notificationInput("7"), "k2", T0 + 20);
        const secondJob = await claimOne(T0 + 20, ["notification"]);
        const late = deliveryPlan(["U1"], { ruleId: "r1" });
        // Decided on "nothing notified yet", but the first notification recorded revision 5 meanwhile.
        expect(
          await store.dispatchNotification(secondJob, second.id, [late], [{ ruleId: "r1", recipientId: "U2", state: "invalid", detail: "not a user" }], T0 + 30, [
            { ruleId: "r1", revision: 6, status: "Done", replaces: null },
          ]),
        ).toEqual({ conflict: true });
        // A claim naming a revision that is not the stored one loses too.
        expect(await store.dispatchNotification(secondJob, second.id, [late], [], T0 + 30, [{ ruleId: "r1", revision: 6, status: "Done", replaces: 4 }])).toEqual({
          conflict: true,
        });
        expect(await store.getNotification(second.id)).toMatchObject({ state: "pending", updatedAt: T0 + 20 });
        expect(await store.getDelivery(late.id)).toBeUndefined();
        expect(await store.listRecipientOutcomes(second.id)).toEqual([]);
        expect(await store.listNotifiedTransitions("1", "7")).toEqual([{ ruleId: "r1", revision: 5, status: "Approved", notificationId: first.id, notifiedAt: T0 + 10 }]);
        // The job is still this worker's: it decides again and commits under the same lease.
        expect(await store.countJobsByState()).toEqual(
          expect.arrayContaining([{ kind: "notification", state: "running", count: 1 }]),
        );
        expect(await store.dispatchNotification(secondJob, second.id, [late], [], T0 + 40, [{ ruleId: "r1", revision: 6, status: "Done", replaces: 5 }])).toEqual({
          conflict: false,
        });
        expect(await store.listNotifiedTransitions("1", "7")).toEqual([{ ruleId: "r1", revision: 6, status: "Done", notificationId: second.id, notifiedAt: T0 + 40 }]);
        expect((await store.getDelivery(late.id))?.state).toBe("pending");
      });

      it("ends deliveries as sent or failed, with their recipients", async () => {
        const sent = deliveryPlan(["U1"]);
        const failed = deliveryPlan(["U2", "U3"], { method: "multicast" });
        const notificationId = await dispatched("7", [sent, failed]);
        const jobs = await claimDeliveries(T0);
        await store.finishDelivery(must(jobs.get(sent.id)), sent.id, "sent", null, T0 + 100);
        await store.finishDelivery(must(jobs.get(failed.id)), failed.id, "failed", "LINE 400: invalid recipient", T0 + 200);
        expect(await store.getDelivery(sent.id)).toMatchObject({ state: "sent", detail: null, updatedAt: T0 + 100, body: sent.body, retryKey: sent.retryKey });
        expect(await store.getDelivery(failed.id)).toMatchObject({ state: "failed", detail: "LINE 400: invalid recipient", updatedAt: T0 + 200 });
        expect(sortOutcomes(await store.listRecipientOutcomes(notificationId)).map((row) => [row.recipientId, row.state, row.detail])).toEqual([
          ["U1", "sent", null],
          ["U2", "failed", "LINE 400: invalid recipient"],
          ["U3", "failed", "LINE 400: invalid recipient"],
        ]);
        expect(await store.countUnfinishedJobs()).toBe(0);
      });
    });

    describe("dead letters", () => {
      it("gives a delivery up with its job and keeps the rest; a retry sends the same body under the same key", async () => {
        const plan = deliveryPlan(["U1"]);
        const other = deliveryPlan(["U2"]);
        const notificationId = await dispatched("7", [plan, other]);
        const first = must((await claimDeliveries(T0)).get(plan.id));
        await store.retryJob(first, T0 + 100, "LINE 500", { failed: true, now: T0 + 20 });
        const last = await claimOne(T0 + 100, ["delivery"]);
        const letter = await store.deadLetterJob(last, "LINE 500: internal error", T0 + 200);
        expect(letter).toEqual({
          id: expect.any(String),
          jobId: first.id,
          kind: "delivery",
          refId: plan.id,
          appId: "1",
          recordId: "7",
          error: "LINE 500: internal error",
          attempts: 2,
          firstFailedAt: T0 + 20,
          deadAt: T0 + 200,
          retriedAt: null,
        });
        const given = must(await store.getDelivery(plan.id));
        expect(given.state).toBe("failed");
        expect(given.detail).toContain("LINE 500: internal error");
        expect((await store.listRecipientOutcomes(notificationId)).find((row) => row.recipientId === "U1")?.state).toBe("failed");
        expect(await store.listDeadLetters()).toEqual([letter]);
        expect(await store.getDeadLetter(letter.id)).toEqual(letter);
        expect(await store.countOpenDeadLetters()).toBe(1);
        // The other delivery's job is untouched (still held); this one's is done.
        expect(await store.countJobsByState()).toEqual([{ kind: "delivery", state: "running", count: 1 }]);

        expect(await store.retryDeadLetter(letter.id, T0 + 300)).toEqual({ ok: true, jobId: first.id });
        expect(await store.getDelivery(plan.id)).toMatchObject({ state: "pending", body: plan.body, retryKey: plan.retryKey, to: plan.to });
        expect((await store.listRecipientOutcomes(notificationId)).find((row) => row.recipientId === "U1")?.state).toBe("pending");
        expect(await store.listDeadLetters()).toEqual([]);
        expect(await store.countOpenDeadLetters()).toBe(0);
        expect(await store.getDeadLetter(letter.id)).toEqual({ ...letter, retriedAt: T0 + 300 });
        const rerun = must((await claimDeliveries(T0 + 300)).get(plan.id));
        expect(rerun.id).toBe(first.id);
        expect(rerun.firstFailedAt).toBeNull();

        expect(await store.retryDeadLetter(letter.id, T0 + 400)).toEqual({ ok: false, reason: "already_retried" });
        expect(await store.retryDeadLetter("x_unknown", T0 + 400)).toEqual({ ok: false, reason: "not_found" });
        expect(await store.getDeadLetter("x_unknown")).toBeUndefined();
      });

      it("a notification's dead letter is not retried while an identical notification is pending again", async () => {
        const { id } = await store.enqueueNotification(notificationInput("7"), "1:7:Approve", T0);
        const letter = await store.deadLetterJob(await claimOne(T0), "kintone 500", T0 + 10);
        expect(letter).toMatchObject({ kind: "notification", refId: id, appId: "1", recordId: "7", attempts: 1, firstFailedAt: T0 + 10, deadAt: T0 + 10 });
        expect(await store.getNotification(id)).toMatchObject({ state: "failed" });
        expect((await store.getNotification(id))?.detail).toContain("kintone 500");

        const twin = await store.enqueueNotification(notificationInput("7"), "1:7:Approve", T0 + 20);
        expect(twin.duplicate).toBe(false);
        expect(await store.retryDeadLetter(letter.id, T0 + 30)).toEqual({ ok: false, reason: "conflict" });
        expect((await store.getNotification(id))?.state).toBe("failed");
        expect(await store.listDeadLetters()).toEqual([letter]);

        await store.finishNotification(await claimOne(T0 + 40), twin.id, "no_match", "no rule matched", T0 + 40);
        expect(await store.retryDeadLetter(letter.id, T0 + 50)).toEqual({ ok: true, jobId: letter.jobId });
        expect((await store.getNotification(id))?.state).toBe("pending");
        expect((await claimOne(T0 + 50)).refId).toBe(id);
      });

      it("a webhook event's dead letter ends the event; a retry runs it again; letters list oldest first", async () => {
        await store.storeWebhookEvents([inboundEvent("e1", "U1", 1), inboundEvent("e2", "U2", 2)], T0);
        const jobs = await store.claimJobs(T0, LEASE_MS, ["webhook-event"], 2);
        const jobOf = (eventId: string) => must(jobs.find((job) => job.refId === eventId));
        const later = await store.deadLetterJob(jobOf("e2"), "kintone 500", T0 + 200);
        const earlier = await store.deadLetterJob(jobOf("e1"), "kintone 502", T0 + 100);
        expect(earlier).toMatchObject({ kind: "webhook-event", refId: "e1", appId: null, recordId: null });
        expect(await store.getWebhookEvent("e1")).toMatchObject({ state: "done" });
        expect((await store.getWebhookEvent("e1"))?.outcome).toContain("kintone 502");
        expect((await store.listDeadLetters()).map((row) => row.id)).toEqual([earlier.id, later.id]);
        expect((await store.listDeadLetters(1)).map((row) => row.id)).toEqual([earlier.id]);

        expect(await store.retryDeadLetter(earlier.id, T0 + 300)).toEqual({ ok: true, jobId: earlier.jobId });
        expect(await store.getWebhookEvent("e1")).toMatchObject({ state: "pending", outcome: null });
        expect((await claimOne(T0 + 300, ["webhook-event"])).refId).toBe("e1");
      });
    });

    describe("per-user order of webhook events", () => {
      it("only a user's earliest unfinished event is claimable; another user's is not held up", async () => {
        // Arrival order differs from timestamp order.
        await store.storeWebhookEvents([inboundEvent("u1-c", "U1", 300), inboundEvent("u1-a", "U1", 100)], T0);
        await store.storeWebhookEvents([inboundEvent("u2-a", "U2", 200), inboundEvent("u1-b", "U1", 200)], T0 + 1);
        const first = await claimOne(T0 + 1, ["webhook-event"]);
        const second = await claimOne(T0 + 1, ["webhook-event"]);
        expect([first.refId, second.refId].sort()).toEqual(["u1-a", "u2-a"]);
        expect(await store.claimJob(T0 + 1, LEASE_MS, ["webhook-event"])).toBeUndefined();

        // A retried head still holds the user's later events back.
        const head = first.refId === "u1-a" ? first : second;
        await store.retryJob(head, T0 + 100, "kintone 503", { failed: true, now: T0 + 2 });
        expect(await store.claimJob(T0 + 50, LEASE_MS, ["webhook-event"])).toBeUndefined();
        const again = await claimOne(T0 + 100, ["webhook-event"]);
        expect(again.refId).toBe("u1-a");
        await store.finishWebhookEvent(again, "u1-a", "done");
        expect((await claimOne(T0 + 100, ["webhook-event"])).refId).toBe("u1-b");
        expect(await store.claimJob(T0 + 100, LEASE_MS, ["webhook-event"])).toBeUndefined();
      });

      it("order holds when a batch claims with limit 10, and when a lapsed head is taken over", async () => {
        await store.storeWebhookEvents(
          [inboundEvent("u1-b", "U1", 200), inboundEvent("u1-a", "U1", 100), inboundEvent("u2-a", "U2", 150), inboundEvent("u1-c", "U1", 300)],
          T0,
        );
        const batch = await store.claimJobs(T0, 1_000, ["webhook-event"], 10);
        expect(refIds(batch)).toEqual(["u1-a", "u2-a"]);
        expect(await store.claimJobs(T0, LEASE_MS, ["webhook-event"], 10)).toEqual([]);
        // The heads' leases lapse: the heads are taken over, never the events behind them.
        const takenOver = await store.claimJobs(T0 + 1_001, LEASE_MS, ["webhook-event"], 10);
        expect(refIds(takenOver)).toEqual(["u1-a", "u2-a"]);
        const u1a = must(takenOver.find((job) => job.refId === "u1-a"));
        await store.finishWebhookEvent(u1a, "u1-a", "done");
        expect(refIds(await store.claimJobs(T0 + 1_002, LEASE_MS, ["webhook-event"], 10))).toEqual(["u1-b"]);
      });

      it("a dead-lettered event no longer holds up the user's later events", async () => {
        await store.storeWebhookEvents([inboundEvent("a", "U1", 1), inboundEvent("b", "U1", 2)], T0);
        await store.deadLetterJob(await claimOne(T0, ["webhook-event"]), "unexpected: boom", T0 + 10);
        expect((await claimOne(T0 + 20, ["webhook-event"])).refId).toBe("b");
      });
    });

    describe("webhook events", () => {
      it("stores each event once, with a job, and ends it with what its run changed", async () => {
        expect(await store.storeWebhookEvents([inboundEvent("e1", "U1", 100), inboundEvent("e2", "C1", 200, true)], T0)).toEqual({ stored: 2, duplicates: 0 });
        expect(await store.storeWebhookEvents([inboundEvent("e1", "U1", 100), inboundEvent("e3", "U3", 300)], T0 + 1)).toEqual({ stored: 1, duplicates: 1 });
        expect(await store.getWebhookEvent("e1")).toEqual({ ...inboundEvent("e1", "U1", 100), receivedAt: T0, state: "pending", outcome: null, replied: false });
        expect((await store.getWebhookEvent("e2"))?.redelivery).toBe(true);
        expect(await store.getWebhookEvent("nope")).toBeUndefined();
        expect(await store.countUnfinishedJobs()).toBe(3);

        const jobs = await store.claimJobs(T0 + 1, LEASE_MS, ["webhook-event"], 10);
        expect(refIds(jobs)).toEqual(["e1", "e2", "e3"]);
        const jobOf = (eventId: string) => must(jobs.find((job) => job.refId === eventId));
        await store.markReplied("e1");
        expect((await store.getWebhookEvent("e1"))?.replied).toBe(true);
        await store.finishWebhookEvent(jobOf("e1"), "e1", "user blocked", { user: { userId: "U1", state: "blocked", at: T0 } });
        await store.finishWebhookEvent(jobOf("e2"), "e2", "group joined", {
          replied: true,
          group: { groupId: "C1", kind: "group", state: "joined", at: T0, name: "Sales" },
        });
        await store.finishWebhookEvent(jobOf("e3"), "e3", "ignored: not a link code");
        // A reply mark stays once set.
        expect(await store.getWebhookEvent("e1")).toMatchObject({ state: "done", outcome: "user blocked", replied: true });
        expect(await store.getWebhookEvent("e2")).toMatchObject({ state: "done", outcome: "group joined", replied: true });
        expect(await store.getWebhookEvent("e3")).toMatchObject({ state: "done", outcome: "ignored: not a link code", replied: false });
        expect(await store.isBlocked("U1")).toBe(true);
        expect(await store.listGroups()).toEqual([{ groupId: "C1", kind: "group", state: "joined", changedAt: T0, name: "Sales" }]);
        expect(await store.countUnfinishedJobs()).toBe(0);
      });
    });

    describe("acknowledgements", () => {
      it("the first tap claims the acknowledgement with its effects; later taps get it as it stands", async () => {
        const plan = deliveryPlan(["U1"]);
        await dispatched("7", [plan]);
        const key = { deliveryId: plan.id, userId: "U1", buttonId: "b1" };
        expect(await store.getAcknowledgement(key)).toBeUndefined();
        const effects = JSON.stringify({ fields: { ack: "OK" }, comment: "U1 acknowledged" });
        const first = await store.claimAcknowledgement(key, "ev1", T0 + 100, effects);
        const claimed = {
          ...key,
          eventId: "ev1",
          displayName: null,
          tappedAt: T0 + 100,
          state: "writing",
          writtenAt: null,
          effects,
          commentId: null,
          commentingAt: null,
        };
        expect(first).toEqual({ first: true, ack: claimed });
        expect(await store.claimAcknowledgement(key, "ev2", T0 + 200, JSON.stringify({ fields: { ack: "NG" } }))).toEqual({ first: false, ack: claimed });
        expect(await store.getAcknowledgement(key)).toEqual(claimed);

        await store.markAcknowledgementCommenting(key, T0 + 300);
        expect(await store.getAcknowledgement(key)).toMatchObject({ state: "commenting", commentingAt: T0 + 300 });
        await store.setAcknowledgementComment(key, "42");
        expect((await store.getAcknowledgement(key))?.commentId).toBe("42");
        expect(await store.listAcknowledgementCommentIds("1", "7")).toEqual(["42"]);
        expect(await store.listAcknowledgementCommentIds("1", "8")).toEqual([]);
        await store.completeAcknowledgement(key, "Taro", T0 + 400);
        const written = { ...claimed, state: "written", displayName: "Taro", writtenAt: T0 + 400, commentId: "42", commentingAt: T0 + 300 };
        expect(await store.getAcknowledgement(key)).toEqual(written);
        // Still one claim: a tap after completion gets the written one.
        expect(await store.claimAcknowledgement(key, "ev3", T0 + 500, effects)).toEqual({ first: false, ack: written });

        const other = await store.claimAcknowledgement({ ...key, buttonId: "b2" }, "ev4", T0 + 600, effects);
        expect(other.first).toBe(true);
        expect((await store.listAcknowledgements([plan.id])).map((ack) => [ack.buttonId, ack.state])).toEqual([
          ["b1", "written"],
          ["b2", "writing"],
        ]);
        expect(await store.listAcknowledgements([])).toEqual([]);
      });

      it("two taps claimed at the same moment: exactly one is first", async () => {
        const plan = deliveryPlan(["U1"]);
        await dispatched("7", [plan]);
        const key = { deliveryId: plan.id, userId: "U1", buttonId: "b1" };
        const claims = await Promise.all([
          store.claimAcknowledgement(key, "ev1", T0 + 1, '{"n":1}'),
          store.claimAcknowledgement(key, "ev2", T0 + 2, '{"n":2}'),
        ]);
        expect(claims.filter((claim) => claim.first)).toHaveLength(1);
        const winner = must(claims.find((claim) => claim.first)).ack;
        expect(claims.map((claim) => claim.ack)).toEqual([winner, winner]);
      });
    });

    describe("link codes", () => {
      const code = (value: string, expiresAt = T0 + 600_000) => ({ code: value, appId: "1", recordId: "7", field: "line_user_id", createdAt: T0, expiresAt });

      it("a code goes to one event; it is spent once that event's write landed", async () => {
        await store.storeWebhookEvents([inboundEvent("e1", "U1", 1), inboundEvent("e2", "U2", 2)], T0);
        await store.createLinkCode(code("ABCD1234"));
        const row = { ...code("ABCD1234"), usedBy: "U1" };
        expect(await store.claimLinkCode("ABCD1234", "U1", "e1", T0 + 10)).toEqual(row);
        // The same event asking again (a re-run) gets it; another event does not while e1 is pending.
        expect(await store.claimLinkCode("ABCD1234", "U1", "e1", T0 + 11)).toEqual(row);
        expect(await store.claimLinkCode("ABCD1234", "U2", "e2", T0 + 12)).toBeUndefined();
        await store.completeLinkCode("ABCD1234", "e1", T0 + 20);
        expect(await store.claimLinkCode("ABCD1234", "U2", "e2", T0 + 30)).toBeUndefined();
        expect(await store.claimLinkCode("ABCD1234", "U1", "e1", T0 + 30)).toEqual(row);
        expect(await store.claimLinkCode("NOSUCH00", "U1", "e1", T0 + 30)).toBeUndefined();
      });

      it("a claim whose event ended without the write lapses; an expired code is refused", async () => {
        await store.storeWebhookEvents([inboundEvent("e1", "U1", 1), inboundEvent("e2", "U2", 2)], T0);
        await store.createLinkCode(code("WXYZ5678"));
        await store.createLinkCode(code("OLD00000", T0 + 100));
        expect((await store.claimLinkCode("WXYZ5678", "U1", "e1", T0 + 10))?.usedBy).toBe("U1");
        const e1 = must((await store.claimJobs(T0 + 10, LEASE_MS, ["webhook-event"], 10)).find((job) => job.refId === "e1"));
        await store.finishWebhookEvent(e1, "e1", "kintone refused the write");
        expect(await store.claimLinkCode("WXYZ5678", "U2", "e2", T0 + 20)).toEqual({ ...code("WXYZ5678"), usedBy: "U2" });
        expect(await store.claimLinkCode("OLD00000", "U2", "e2", T0 + 200)).toBeUndefined();
      });

      it("counts a user's wrong guesses within the window", async () => {
        expect(await store.recordLinkMiss("U1", T0, T0 - 600_000)).toBe(1);
        expect(await store.recordLinkMiss("U1", T0 + 1_000, T0 - 600_000)).toBe(2);
        expect(await store.recordLinkMiss("U2", T0 + 1_000, T0 - 600_000)).toBe(1);
        expect(await store.countLinkMisses("U1", T0 + 500)).toBe(1);
        expect(await store.countLinkMisses("U1", T0)).toBe(2);
        expect(await store.countLinkMisses("U3", 0)).toBe(0);
        expect(await store.recordLinkMiss("U1", T0 + 700_000, T0 + 100_000)).toBe(1);
      });
    });

    describe("the monthly push budget", () => {
      it("reserves recipients under the cap, caps what would pass it, and gives back what LINE refused", async () => {
        const one = deliveryPlan(["U1"]);
        const two = deliveryPlan(["U2", "U3"], { method: "multicast" });
        const three = deliveryPlan(["U4", "U5", "U6"], { method: "multicast" });
        const notificationId = await dispatched("7", [one, two, three]);
        const jobs = await claimDeliveries(T0);
        const month = "2025-01";
        expect(await store.getPushUsage(month)).toEqual({ month, pushed: 0, lineLimitedAt: null });

        expect(await store.reservePush(must(jobs.get(one.id)), one.id, month, 3, T0 + 10)).toEqual({ kind: "push", month });
        expect(await store.getPushUsage(month)).toEqual({ month, pushed: 1, lineLimitedAt: null });
        // A retry of a reserved delivery keeps its reservation, in its month.
        expect(await store.reservePush(must(jobs.get(one.id)), one.id, "2025-02", 3, T0 + 20)).toEqual({ kind: "push", month });
        expect(await store.getPushUsage(month)).toEqual({ month, pushed: 1, lineLimitedAt: null });

        // 1 + 3 would pass 3: not sent at all, the first cap of the month.
        expect(await store.reservePush(must(jobs.get(three.id)), three.id, month, 3, T0 + 30)).toEqual({
          kind: "capped",
          reason: "cap",
          month,
          pushed: 1,
          firstThisMonth: true,
        });
        expect((await store.getDelivery(three.id))?.state).toBe("capped");
        const outcomes = await store.listRecipientOutcomes(notificationId);
        expect(outcomes.filter((row) => row.deliveryId === three.id).map((row) => row.state)).toEqual(["capped", "capped", "capped"]);
        expect(await store.countJobsByState()).toEqual([{ kind: "delivery", state: "running", count: 2 }]);

        // 1 + 2 fits exactly.
        expect(await store.reservePush(must(jobs.get(two.id)), two.id, month, 3, T0 + 40)).toEqual({ kind: "push", month });
        expect((await store.getPushUsage(month)).pushed).toBe(3);
        await store.finishDelivery(must(jobs.get(two.id)), two.id, "failed", "LINE 400", T0 + 50);
        expect((await store.getPushUsage(month)).pushed).toBe(1);
        await store.finishDelivery(must(jobs.get(one.id)), one.id, "sent", null, T0 + 60);
        expect((await store.getPushUsage(month)).pushed).toBe(1);

        // Another capped delivery this month is not the first.
        const four = deliveryPlan(["U7", "U8", "U9"], { method: "multicast" });
        await dispatched("8", [four], [], T0 + 70);
        const fourJob = must((await claimDeliveries(T0 + 70)).get(four.id));
        expect(await store.reservePush(fourJob, four.id, month, 3, T0 + 80)).toMatchObject({ kind: "capped", reason: "cap", firstThisMonth: false });
        expect(await store.countUnfinishedJobs()).toBe(0);
      });

      it("LINE's monthly limit caps the delivery, gives its reservation back and stops the month's pushes", async () => {
        const first = deliveryPlan(["U1", "U2"], { method: "multicast" });
        const second = deliveryPlan(["U3"]);
        const notificationId = await dispatched("7", [first, second]);
        const jobs = await claimDeliveries(T0);
        const month = "2025-02";
        expect(await store.reservePush(must(jobs.get(first.id)), first.id, month, null, T0 + 10)).toEqual({ kind: "push", month });
        expect((await store.getPushUsage(month)).pushed).toBe(2);
        expect(await store.capDeliveryAtLineLimit(must(jobs.get(first.id)), first.id, month, "LINE 429: monthly limit", T0 + 20)).toEqual({ firstThisMonth: true });
        expect(await store.getPushUsage(month)).toEqual({ month, pushed: 0, lineLimitedAt: T0 + 20 });
        expect(await store.getDelivery(first.id)).toMatchObject({ state: "capped", detail: "LINE 429: monthly limit" });
        expect((await store.listRecipientOutcomes(notificationId)).filter((row) => row.deliveryId === first.id).map((row) => row.state)).toEqual([
          "capped",
          "capped",
        ]);
        expect(await store.reservePush(must(jobs.get(second.id)), second.id, month, null, T0 + 30)).toEqual({
          kind: "capped",
          reason: "line_limit",
          month,
          pushed: 0,
          firstThisMonth: false,
        });
        expect((await store.getDelivery(second.id))?.state).toBe("capped");
        expect(await store.countUnfinishedJobs()).toBe(0);
      });
    });

    describe("rule sets", () => {
      it("a new version only when the content changes; each version found by its content", async () => {
        const first = JSON.stringify({ version: 1, rules: [{ id: "r1", when: { status: "Approved" } }] });
        const second = JSON.stringify({ version: 1, rules: [{ id: "r1", when: { status: "Done" } }] });
        expect(await store.getAppRules("1")).toBeUndefined();
        expect(await store.saveAppRules("1", first, T0)).toEqual({ version: 1, changed: true });
        expect(await store.saveAppRules("1", first, T0 + 1)).toEqual({ version: 1, changed: false });
        expect(await store.getAppRules("1")).toEqual({ appId: "1", version: 1, rules: first, updatedAt: T0 });
        expect(await store.saveAppRules("1", second, T0 + 2)).toEqual({ version: 2, changed: true });
        expect(await store.saveAppRules("1", first, T0 + 3)).toEqual({ version: 3, changed: true });
        expect(await store.getAppRules("1")).toEqual({ appId: "1", version: 3, rules: first, updatedAt: T0 + 3 });
        expect(await store.findAppRulesVersion("1", first)).toBe(3);
        expect(await store.findAppRulesVersion("1", second)).toBe(2);
        expect(await store.findAppRulesVersion("1", "{}")).toBeUndefined();
        expect(await store.findAppRulesVersion("2", first)).toBeUndefined();
        expect(await store.saveAppRules("2", second, T0 + 4)).toEqual({ version: 1, changed: true });
        expect(await store.listAppRuleSets()).toEqual([
          { appId: "1", version: 3, rules: first, updatedAt: T0 + 3 },
          { appId: "2", version: 1, rules: second, updatedAt: T0 + 4 },
        ]);
      });

      it("a notification reads back the rule-set text it was enqueued with, byte for byte", async () => {
        const spaced = '{ "version": 1,\n  "rules": [ ] , "note": "承認" }';
        const { id } = await store.enqueueNotification({ ...notificationInput("7"), rules: spaced }, "k1", T0);
        await store.saveAppRules("1", spaced, T0);
        expect((await store.getNotification(id))?.rules).toBe(spaced);
        expect((await store.getAppRules("1"))?.rules).toBe(spaced);
      });
    });

    describe("kintone webhooks", () => {
      const receipt = (id: string, outcome = "notification") => ({ id, type: "UPDATE_STATUS", appId: "1", recordId: "7", body: '{"type":"UPDATE_STATUS"}', outcome });

      it("stores each kintone notification once, with the notification it starts", async () => {
        const started = await store.storeKintoneWebhook(receipt("kw1"), T0, { input: { ...notificationInput("7"), source: "kintone-webhook" }, dedupKey: "1:7:Approved" });
        expect(started).toEqual({ duplicate: false, notificationId: expect.any(String) });
        const notificationId = must(started.notificationId);
        expect(await store.getNotification(notificationId)).toMatchObject({ source: "kintone-webhook", state: "pending", createdAt: T0 });
        expect(await store.storeKintoneWebhook(receipt("kw1"), T0 + 1, { input: notificationInput("7"), dedupKey: "1:7:other" })).toEqual({ duplicate: true });
        // Another kintone notification of the same change, while it is pending: the same notification.
        expect(await store.storeKintoneWebhook(receipt("kw2"), T0 + 2, { input: notificationInput("7"), dedupKey: "1:7:Approved" })).toEqual({
          duplicate: false,
          notificationId,
        });
        expect(await store.storeKintoneWebhook(receipt("kw3", "ignored: not a status change"), T0 + 3)).toEqual({ duplicate: false });
        expect(await store.storeKintoneWebhook(receipt("kw3", "ignored: not a status change"), T0 + 4)).toEqual({ duplicate: true });
        expect(await store.countUnfinishedJobs()).toBe(1);
        expect((await claimOne(T0 + 4)).refId).toBe(notificationId);
      });

      it("remembers which status a record was seen in, by revision", async () => {
        await store.recordStatusSeen("1", "7", 1, "Draft", T0);
        await store.recordStatusSeen("1", "7", 3, "Submitted", T0 + 1);
        await store.recordStatusSeen("1", "8", 2, "Approved", T0 + 2);
        expect(await store.lastStatusSeenBefore("1", "7", 1)).toBeUndefined();
        expect(await store.lastStatusSeenBefore("1", "7", 3)).toEqual({ revision: 1, status: "Draft" });
        expect(await store.lastStatusSeenBefore("1", "7", 10)).toEqual({ revision: 3, status: "Submitted" });
        await store.recordStatusSeen("1", "7", 3, "Approved", T0 + 3);
        expect(await store.lastStatusSeenBefore("1", "7", 10)).toEqual({ revision: 3, status: "Approved" });
        expect(await store.lastStatusSeenBefore("2", "7", 10)).toBeUndefined();
      });
    });

    describe("reminders", () => {
      const reminder = (recordId: string, dateValue: string) => ({
        recordId,
        dateValue,
        input: { ...notificationInput(recordId), action: "", status: "", source: "schedule" as const, ruleId: "due-soon", subjectDate: dateValue },
      });

      it("a day's run happens once, and each record's date is reminded once", async () => {
        expect(await store.hasReminderRun("1", "due-soon", "2025-01-15")).toBe(false);
        expect(await store.claimReminderRun("1", "due-soon", "2025-01-15", [reminder("7", "2025-01-20"), reminder("8", "2025-01-21")], T0)).toEqual({
          claimed: true,
          enqueued: 2,
        });
        expect(await store.hasReminderRun("1", "due-soon", "2025-01-15")).toBe(true);
        expect(await store.hasReminderRun("1", "due-soon", "2025-01-16")).toBe(false);
        expect(await store.hasReminderRun("1", "other-rule", "2025-01-15")).toBe(false);
        const jobs = await store.claimJobs(T0, LEASE_MS, ["notification"], 10);
        const rows = await Promise.all(jobs.map((job) => store.getNotification(job.refId)));
        expect(rows.map((row) => [row?.recordId, row?.source, row?.ruleId, row?.subjectDate]).sort()).toEqual([
          ["7", "schedule", "due-soon", "2025-01-20"],
          ["8", "schedule", "due-soon", "2025-01-21"],
        ]);

        expect(await store.claimReminderRun("1", "due-soon", "2025-01-15", [reminder("9", "2025-01-22")], T0 + 1)).toEqual({ claimed: false, enqueued: 0 });
        expect(await store.countUnfinishedJobs()).toBe(2);
        // The next day: record 7's date was reminded already; record 9's was not.
        expect(await store.claimReminderRun("1", "due-soon", "2025-01-16", [reminder("7", "2025-01-20"), reminder("9", "2025-01-22")], T0 + 2)).toEqual({
          claimed: true,
          enqueued: 1,
        });
        expect(await store.countUnfinishedJobs()).toBe(3);
      });

      it("two runs of one day at the same moment: one claims it", async () => {
        const runs = await Promise.all([
          store.claimReminderRun("1", "due-soon", "2025-01-15", [reminder("7", "2025-01-20")], T0),
          store.claimReminderRun("1", "due-soon", "2025-01-15", [reminder("7", "2025-01-20")], T0),
        ]);
        expect(runs.map((run) => run.claimed).sort()).toEqual([false, true]);
        expect(await store.countUnfinishedJobs()).toBe(1);
      });
    });

    describe("LINE users and groups", () => {
      it("a newer follow or block wins over an older one", async () => {
        expect(await store.isBlocked("U1")).toBe(false);
        await store.setUserState("U1", "blocked", T0);
        expect(await store.isBlocked("U1")).toBe(true);
        await store.setUserState("U1", "following", T0 - 10);
        expect(await store.isBlocked("U1")).toBe(true);
        await store.setUserState("U1", "following", T0 + 10);
        expect(await store.isBlocked("U1")).toBe(false);
      });

      it("a newer join or leave wins; a group's name is kept once known", async () => {
        await store.setGroupState("C1", "group", "joined", T0);
        await store.setGroupState("C1", "group", "left", T0 - 5);
        await store.setGroupName("C1", "Sales");
        await store.setGroupName("C9", "Unknown group");
        await store.setGroupState("R1", "room", "joined", T0 + 1);
        expect(sortGroups(await store.listGroups())).toEqual([
          { groupId: "C1", kind: "group", state: "joined", changedAt: T0, name: "Sales" },
          { groupId: "R1", kind: "room", state: "joined", changedAt: T0 + 1 },
        ]);
        await store.setGroupState("C1", "group", "left", T0 + 20);
        expect(sortGroups(await store.listGroups())[0]).toEqual({ groupId: "C1", kind: "group", state: "left", changedAt: T0 + 20, name: "Sales" });
      });
    });

    describe("pruning", () => {
      it("forgets what finished before the cutoff and keeps pending work and recent rows", async () => {
        const old = T0;
        const recent = T0 + 10 * DAY;
        const before = T0 + 5 * DAY;
        // Finished, old and recent (each claim below finds only the job it is about due).
        const finished = await store.enqueueNotification(notificationInput("1"), "k-finished", old);
        await store.finishNotification(await claimOne(old, ["notification"]), finished.id, "no_match", "no rule matched", old + 1);
        const fresh = await store.enqueueNotification(notificationInput("5"), "k-fresh", recent);
        await store.finishNotification(await claimOne(recent, ["notification"]), fresh.id, "no_match", "no rule matched", recent + 1);
        await store.storeWebhookEvents([inboundEvent("old-done", "U1", 1), inboundEvent("old-pending", "U2", 2)], old);
        const events = await store.claimJobs(old, LEASE_MS, ["webhook-event"], 10);
        await store.finishWebhookEvent(must(events.find((job) => job.refId === "old-done")), "old-done", "done");
        await store.retryJob(must(events.find((job) => job.refId === "old-pending")), recent + DAY, "kintone 503", { failed: true, now: old });
        await store.storeWebhookEvents([inboundEvent("new-done", "U5", 5)], recent);
        await store.finishWebhookEvent(await claimOne(recent, ["webhook-event"]), "new-done", "done");
        const given = await store.enqueueNotification(notificationInput("2"), "k-given-up", old);
        const letter = await store.deadLetterJob(await claimOne(old, ["notification"]), "kintone 500", old + 2);
        await store.recordLinkMiss("U1", old, 0);
        await store.recordLinkMiss("U1", recent, 0);
        // Old but pending: a delivery not yet sent (its notification dispatched), a notification not yet run.
        const plan = deliveryPlan(["U3"]);
        const dispatchedId = await dispatched("4", [plan], [], old + 3);
        const waiting = await store.enqueueNotification(notificationInput("3"), "k-waiting", old + 4);
        const unfinished = await store.countUnfinishedJobs();

        // A small batch: the store goes through as many as it takes.
        expect(await store.pruneFinished(before, 2)).toBeGreaterThan(0);

        expect(await store.getNotification(finished.id)).toBeUndefined();
        expect(await store.getWebhookEvent("old-done")).toBeUndefined();
        expect(await store.getDeadLetter(letter.id)).toBeUndefined();
        expect(await store.getNotification(given.id)).toBeUndefined();
        expect(await store.countLinkMisses("U1", 0)).toBe(1);

        expect(await store.getWebhookEvent("old-pending")).toMatchObject({ state: "pending" });
        expect((await store.getNotification(waiting.id))?.state).toBe("pending");
        expect((await store.getDelivery(plan.id))?.state).toBe("pending");
        expect((await store.getNotification(dispatchedId))?.state).toBe("dispatched");
        expect((await store.getNotification(fresh.id))?.state).toBe("no_match");
        expect(await store.getWebhookEvent("new-done")).toMatchObject({ state: "done" });
        expect(await store.countUnfinishedJobs()).toBe(unfinished);
        // The pending work still runs; the pruned notification's key is free again.
        const due = await store.claimJobs(recent + DAY, LEASE_MS, ["notification", "delivery", "webhook-event"], 10);
        expect(refIds(due)).toEqual([waiting.id, plan.id, "old-pending"].sort());
        expect((await store.enqueueNotification(notificationInput("1"), "k-finished", recent + DAY)).duplicate).toBe(false);

        expect(await store.pruneFinished(before)).toBe(0);
      });

      it("forgets old kintone webhook receipts with their finished notifications; a reminder's notification stays while it guards its date", async () => {
        const old = T0;
        const before = T0 + 5 * DAY;
        const receipt = { id: "kw-old", type: "UPDATE_STATUS", appId: "1", recordId: "7", body: '{"type":"UPDATE_STATUS"}', outcome: "notification" };
        const started = await store.storeKintoneWebhook(receipt, old, { input: { ...notificationInput("7"), source: "kintone-webhook" }, dedupKey: "1:7:Approved" });
        const notificationId = must(started.notificationId);
        await store.finishNotification(await claimOne(old, ["notification"]), notificationId, "no_match", "no rule matched", old + 1);
        const reminder = { recordId: "8", dateValue: "2026-01-10", input: { ...notificationInput("8"), source: "schedule" as const, ruleId: "due", subjectDate: "2026-01-10" } };
        expect(await store.claimReminderRun("1", "due", "2026-01-09", [reminder], old)).toEqual({ claimed: true, enqueued: 1 });
        const reminded = await claimOne(old, ["notification"]);
        await store.finishNotification(reminded, reminded.refId, "no_match", "no rule matched", old + 2);

        expect(await store.pruneFinished(before, 2)).toBeGreaterThan(0);
        expect(await store.getNotification(notificationId)).toBeUndefined();
        // The receipt went with it: the same kintone id is new again.
        expect(await store.storeKintoneWebhook(receipt, before + 1)).toEqual({ duplicate: false });
        expect((await store.getNotification(reminded.refId))?.state).toBe("no_match");
        expect(await store.claimReminderRun("1", "due", "2026-01-10", [reminder], before + 2)).toEqual({ claimed: true, enqueued: 0 });
      });
    });

    describe("health", () => {
      it("reports the store writable", async () => {
        expect(await store.checkWritable()).toEqual({ ok: true });
      });
    });
  });
}

const T0 = Date.UTC(2025, 0, 15, 0, 0, 0);
const DAY = 24 * 60 * 60_000;
const LEASE_MS = 60_000;

function notificationInput(recordId: string): NotificationInput {
  return { appId: "1", recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules: '{"version":1,"rules":[]}' };
}

function deliveryPlan(to: string[], options: { ruleId?: string; method?: "push" | "multicast" } = {}): DeliveryPlan {
  const id = newId("d");
  const method = options.method ?? "push";
  return {
    id,
    ruleId: options.ruleId ?? "r1",
    ruleName: "Approved: tell the requester",
    method,
    to,
    body: JSON.stringify({ to: method === "push" ? to[0] : to, messages: [{ type: "text", text: `delivery ${id}` }] }),
    retryKey: randomUUID(),
    buttons: JSON.stringify([{ id: "b1", label: "OK" }]),
  };
}

function inboundEvent(eventId: string, sourceKey: string, timestamp: number, redelivery = false): InboundEvent {
  return { eventId, type: "message", sourceKey, timestamp, redelivery, body: JSON.stringify({ webhookEventId: eventId, timestamp }) };
}

async function expectLeaseLost(call: Promise<unknown>, jobId: string): Promise<void> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "the call should be refused: its lease was taken over").toBeInstanceOf(LeaseLostError);
  expect((error as LeaseLostError).jobId).toBe(jobId);
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("expected a value, found none");
  return value;
}

const refIds = (jobs: readonly Job[]) => jobs.map((job) => job.refId).sort();

/** Jobs in the order they were created (each test's notifications are enqueued a millisecond apart). */
const byRunAt = (jobs: Job[]) => [...jobs].sort((a, b) => a.createdAt - b.createdAt);

const sortCounts = <T extends { kind: string; state: string }>(rows: T[]) =>
  [...rows].sort((a, b) => a.kind.localeCompare(b.kind) || a.state.localeCompare(b.state));

const sortOutcomes = (rows: RecipientOutcome[]) => [...rows].sort((a, b) => a.recipientId.localeCompare(b.recipientId));

const sortGroups = <T extends { groupId: string }>(rows: T[]) => [...rows].sort((a, b) => a.groupId.localeCompare(b.groupId));
