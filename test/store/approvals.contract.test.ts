import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalStepClaim, ApprovalStore } from "../../relay/src/approvals/approval-store.js";
import type { RelayStore } from "../../relay/src/store/relay-store.js";
import { openPostgresStore } from "../../relay/src/store/postgres/pg-store.js";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";
import { startTestPostgres, type TestPostgres } from "../helpers/test-postgres.js";

/**
 * The approvals store's contract (approvals/approval-store.ts) on SQLite and PostgreSQL alike:
 * what each call returns and what later reads see. Time moves by passing a later `now`.
 */
const T0 = Date.UTC(2025, 0, 15, 0, 0, 0);
const TEN_MINUTES = 10 * 60_000;
const ALICE_LINE = "U" + "a".repeat(32);
const BOB_LINE = "U" + "b".repeat(32);

let server: TestPostgres | undefined;
beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describeApprovalContract("SQLite in memory", async () => {
  const store = openSqliteStore(":memory:");
  return { store, close: () => store.close() };
});

describeApprovalContract("SQLite in a folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "relay-approvals-"));
  const store = openSqliteStore(dir);
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeApprovalContract("PostgreSQL", async () => {
  if (!server) throw new Error("the test PostgreSQL did not start");
  const store = await openPostgresStore(await server.newDatabase());
  return { store, close: () => store.close() };
});

function describeApprovalContract(name: string, open: () => Promise<{ store: RelayStore; close(): Promise<void> }>): void {
  describe(`${name}: approvals`, () => {
    let store: RelayStore;
    let approvals: ApprovalStore;
    let close: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      approvals = store.approvals;
      close = opened.close;
    });
    afterEach(async () => {
      await close?.();
      close = undefined;
    });

    let serial = 0;
    const claim = (overrides: Partial<ApprovalStepClaim> = {}): ApprovalStepClaim => ({
      id: `st_${String(serial++).padStart(4, "0")}`,
      deliveryId: "d_1",
      lineUserId: ALICE_LINE,
      buttonId: "approve",
      eventId: `ev-${serial}`,
      kintoneUserCode: "alice",
      appId: "1",
      recordId: "7",
      action: "Approve",
      expectedStatus: "Submitted",
      state: "acting",
      revision: 4,
      reasonUntil: null,
      ...overrides,
    });

    it("remembers which kintone user each LINE recipient of a delivery was sent to as", async () => {
      await approvals.rememberRecipientUsers(
        [
          { deliveryId: "d_1", lineUserId: ALICE_LINE, kintoneUserCode: "alice" },
          { deliveryId: "d_1", lineUserId: BOB_LINE, kintoneUserCode: "bob" },
        ],
        T0,
      );
      // Written again (a re-run before the dispatch): the first stays.
      await approvals.rememberRecipientUsers([{ deliveryId: "d_1", lineUserId: ALICE_LINE, kintoneUserCode: "mallory" }], T0);
      expect(await approvals.recipientUser("d_1", ALICE_LINE)).toBe("alice");
      expect(await approvals.recipientUser("d_1", BOB_LINE)).toBe("bob");
      expect(await approvals.recipientUser("d_2", ALICE_LINE)).toBeUndefined();
    });

    it("claims a step once per delivery, LINE user and button; a second claim gets the first one as it stands", async () => {
      const first = await approvals.claimStep(claim({ id: "st_a", eventId: "tap-1" }), T0);
      expect(first).toMatchObject({ first: true, step: { id: "st_a", eventId: "tap-1", state: "acting", revision: 4, outcome: null, candidates: [], createdAt: T0 } });
      const again = await approvals.claimStep(claim({ id: "st_b", eventId: "tap-2", revision: 6 }), T0 + 1);
      expect(again).toMatchObject({ first: false, step: { id: "st_a", eventId: "tap-1", revision: 4 } });
      // Another user, or another button: a step of its own.
      expect((await approvals.claimStep(claim({ id: "st_c", lineUserId: BOB_LINE, kintoneUserCode: "bob" }), T0)).first).toBe(true);
      expect((await approvals.claimStep(claim({ id: "st_d", buttonId: "reject" }), T0)).first).toBe(true);
      expect((await approvals.getStep({ deliveryId: "d_1", lineUserId: ALICE_LINE, buttonId: "approve" }))?.id).toBe("st_a");
    });

    it("a step that ended in a final outcome stands; one that changed nothing may be claimed again", async () => {
      await approvals.claimStep(claim({ id: "st_done" }), T0);
      await approvals.updateStep("st_done", { state: "done", outcome: "already_done", detail: "GAIA_CO02" }, T0 + 1);
      expect(await approvals.claimStep(claim({ id: "st_next" }), T0 + 2)).toMatchObject({ first: false, step: { id: "st_done", outcome: "already_done" } });

      await approvals.claimStep(claim({ id: "st_rc", buttonId: "reject" }), T0);
      await approvals.updateStep("st_rc", { state: "done", outcome: "reconnect", detail: "must connect again" }, T0 + 1);
      const retried = await approvals.claimStep(claim({ id: "st_rc2", buttonId: "reject", eventId: "tap-9" }), T0 + 2);
      expect(retried).toMatchObject({ first: true, step: { id: "st_rc2", eventId: "tap-9", state: "acting", outcome: null } });
      expect(await approvals.getStepById("st_rc")).toBeUndefined();
    });

    it("applies changes and reads them back (candidates as a list, nulls kept)", async () => {
      await approvals.claimStep(claim({ id: "st_u" }), T0);
      const choosing = await approvals.updateStep("st_u", { state: "choosing_assignee", candidates: [{ code: "carol", name: "carol" }] }, T0 + 5);
      expect(choosing).toMatchObject({ state: "choosing_assignee", candidates: [{ code: "carol", name: "carol" }], updatedAt: T0 + 5 });
      const acting = await approvals.updateStep("st_u", { state: "acting", assignee: "carol", revision: 8, eventId: "tap-3" }, T0 + 6);
      expect(acting).toMatchObject({ state: "acting", assignee: "carol", revision: 8, eventId: "tap-3", candidates: [{ code: "carol", name: "carol" }] });
      expect(await approvals.updateStep("st_u", { commentId: null, detail: "x" }, T0 + 7)).toMatchObject({ commentId: null, detail: "x" });
      await expect(approvals.updateStep("st_missing", { detail: "x" }, T0)).rejects.toThrow(/st_missing/);
    });

    it("finds the question a text message answers: the newest one still open, or the one this event answered before", async () => {
      await approvals.claimStep(claim({ id: "st_q1", buttonId: "reject", state: "asking_reason", revision: null, reasonUntil: T0 + TEN_MINUTES }), T0);
      expect((await approvals.findReasonStep(ALICE_LINE, "msg-1", T0 + 1000))?.id).toBe("st_q1");
      expect(await approvals.findReasonStep(ALICE_LINE, "msg-1", T0 + TEN_MINUTES + 1)).toBeUndefined();
      expect(await approvals.findReasonStep(BOB_LINE, "msg-1", T0 + 1000)).toBeUndefined();

      // A newer question ends the older one: a message never answers a question asked before the last.
      await approvals.claimStep(claim({ id: "st_q2", deliveryId: "d_2", buttonId: "reject", state: "asking_reason", revision: null, reasonUntil: T0 + 60_000 + TEN_MINUTES }), T0 + 60_000);
      expect(await approvals.getStepById("st_q1")).toMatchObject({ state: "done", outcome: "cancelled" });
      expect((await approvals.findReasonStep(ALICE_LINE, "msg-2", T0 + 61_000))?.id).toBe("st_q2");

      // Once answered, the same event finds its step again (a re-run), any other does not.
      await approvals.updateStep("st_q2", { state: "commenting", reason: "too expensive", reasonEventId: "msg-2", commentingAt: T0 + 62_000, revision: 4 }, T0 + 62_000);
      expect(await approvals.findReasonStep(ALICE_LINE, "msg-2", T0 + 62_000)).toMatchObject({ id: "st_q2", reason: "too expensive", commentingAt: T0 + 62_000 });
      expect(await approvals.findReasonStep(ALICE_LINE, "msg-3", T0 + 63_000)).toBeUndefined();
    });

    it("pruning forgets ended steps and recipient users older than the cutoff, not a step under way", async () => {
      await approvals.rememberRecipientUsers([{ deliveryId: "d_old", lineUserId: ALICE_LINE, kintoneUserCode: "alice" }], T0);
      await approvals.claimStep(claim({ id: "st_old" }), T0);
      await approvals.updateStep("st_old", { state: "done", outcome: "done" }, T0);
      await approvals.claimStep(claim({ id: "st_busy", buttonId: "reject" }), T0);
      await store.pruneFinished(T0 + 1);
      expect(await approvals.recipientUser("d_old", ALICE_LINE)).toBeUndefined();
      expect(await approvals.getStepById("st_old")).toBeUndefined();
      expect(await approvals.getStepById("st_busy")).toMatchObject({ state: "acting" });
    });
  });
}
