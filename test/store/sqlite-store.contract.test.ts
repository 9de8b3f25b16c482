import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LeaseLostError } from "../../relay/src/store/relay-store.js";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";
import { describeStoreContract } from "./store-contract.js";

/** The store contract on SQLite: in memory (the tests' usual store) and in a folder (the relay's, with its inbox writer thread). */
describeStoreContract("SQLite in memory", async () => {
  const store = openSqliteStore(":memory:");
  return { store, close: () => store.close() };
});

describeStoreContract("SQLite in a folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "relay-contract-"));
  const store = openSqliteStore(dir);
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("SQLite only: one relay process per file", () => {
  it("at start, jobs the previous process left running are released at once, and its leases are refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "relay-contract-"));
    try {
      const now = Date.UTC(2025, 0, 15);
      const before = openSqliteStore(dir);
      const { id } = await before.enqueueNotification(
        { appId: "1", recordId: "7", action: "Approve", status: "Submitted", nextStatus: "Approved", rules: '{"version":1,"rules":[]}' },
        "1:7:Approve",
        now,
      );
      const orphaned = await before.claimJob(now, 5 * 60_000);
      await before.close();

      const after = openSqliteStore(dir);
      try {
        // Well within the old lease: nobody else can hold the file's jobs, so nothing waits for it to lapse.
        expect(await after.claimJob(now + 1_000, 60_000)).toBeUndefined();
        expect(await after.releaseOrphanedLeases()).toBe(1);
        const resumed = await after.claimJob(now + 1_000, 60_000);
        expect(resumed?.id).toBe(orphaned?.id);
        expect(resumed?.lease).not.toBe(orphaned?.lease);
        const refused = await after
          .finishNotification({ id: orphaned?.id ?? "", lease: orphaned?.lease ?? "" }, id, "no_match", "late", now + 2_000)
          .then(() => undefined, (error: unknown) => error);
        expect(refused).toBeInstanceOf(LeaseLostError);
        expect((await after.getNotification(id))?.state).toBe("pending");
        // Every running job, this process's own included: it is meant for the start only.
        expect(await after.releaseOrphanedLeases()).toBe(1);
      } finally {
        await after.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
