import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PendingLinkRow, UserLinkStore } from "../../relay/src/links/user-links.js";
import type { RelayStore } from "../../relay/src/store/relay-store.js";
import { openPostgresStore } from "../../relay/src/store/postgres/pg-store.js";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";
import { startTestPostgres, type TestPostgres } from "../helpers/test-postgres.js";

/**
 * The user-link store's contract (links/user-links.ts), held on SQLite and PostgreSQL alike:
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

describeUserLinkContract("SQLite in memory", async () => {
  const store = openSqliteStore(":memory:");
  return { store, close: () => store.close() };
});

describeUserLinkContract("SQLite in a folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "relay-links-"));
  const store = openSqliteStore(dir);
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeUserLinkContract("PostgreSQL", async () => {
  if (!server) throw new Error("the test PostgreSQL did not start");
  const store = await openPostgresStore(await server.newDatabase());
  return { store, close: () => store.close() };
});

function describeUserLinkContract(name: string, open: () => Promise<{ store: RelayStore; close(): Promise<void> }>): void {
  describe(`${name}: user links`, () => {
    let store: RelayStore;
    let links: UserLinkStore;
    let close: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      links = store.userLinks;
      close = opened.close;
    });
    afterEach(async () => {
      await close?.();
      close = undefined;
    });

    let serial = 0;
    /** A pending link (OAuth done) for `code` proven by the browser of `lineUserId`; returns its nonce hash. */
    async function pending(code: string, lineUserId: string, overrides: Partial<PendingLinkRow> = {}): Promise<string> {
      const nonceHash = `nonce-${serial++}`;
      await links.createPendingLink({
        nonceHash,
        lineUserId,
        kintoneUserCode: code,
        kintoneUserName: `${code} name`,
        sealedRefreshToken: `sealed-${code}-${serial}`,
        createdAt: T0,
        expiresAt: T0 + TEN_MINUTES,
        ...overrides,
      });
      return nonceHash;
    }

    async function linked(code: string, lineUserId: string, now = T0 + 1000) {
      const result = await links.completePendingLink(await pending(code, lineUserId), lineUserId, "ok", `ev-${serial++}`, now);
      if (!result.ok) throw new Error(`expected a link, got ${result.reason}`);
      return result.link;
    }

    it("stores a link once the account-link event names its nonce, readable by either user", async () => {
      expect(await links.listLinks()).toEqual([]);
      const nonce = await pending("alice", ALICE_LINE);
      const result = await links.completePendingLink(nonce, ALICE_LINE, "ok", "ev-1", T0 + 5_000);
      const alice = { kintoneUserCode: "alice", kintoneUserName: "alice name", lineUserId: ALICE_LINE, linkedAt: T0 + 5_000, state: "active" };
      expect(result).toEqual({ ok: true, link: alice });
      expect(await links.getLinkByLineUser(ALICE_LINE)).toEqual(alice);
      expect(await links.getLinkByKintoneUser("alice")).toEqual(alice);
      expect(await links.getLinkByLineUser(BOB_LINE)).toBeUndefined();
      expect(await links.getLinkCredentials("alice")).toEqual({ link: alice, sealedRefreshToken: expect.stringMatching(/^sealed-alice-/) });
      expect(await links.getLinkCredentials("bob")).toBeUndefined();

      const bob = await linked("bob", BOB_LINE, T0 + 6_000);
      expect(await links.getLinksByKintoneUsers(["bob", "carol", "alice"])).toEqual([alice, bob]);
      expect(await links.getLinksByKintoneUsers([])).toEqual([]);
      expect(await links.listLinks()).toEqual([alice, bob]);
    });

    it("a nonce is tried once: the same event asking again gets its outcome, any other event 'used'", async () => {
      const nonce = await pending("alice", ALICE_LINE);
      const first = await links.completePendingLink(nonce, ALICE_LINE, "ok", "ev-1", T0 + 1_000);
      expect(first.ok).toBe(true);
      expect(await links.completePendingLink(nonce, ALICE_LINE, "ok", "ev-1", T0 + 2_000)).toEqual(first);
      expect(await links.completePendingLink(nonce, ALICE_LINE, "ok", "ev-2", T0 + 2_000)).toEqual({ ok: false, reason: "used" });
      expect(await links.completePendingLink("nonce-forged", ALICE_LINE, "ok", "ev-3", T0 + 2_000)).toEqual({ ok: false, reason: "unknown_nonce" });
    });

    it("binds nothing for another LINE user, an expired nonce or a failed link, and spends the nonce", async () => {
      const stolen = await pending("alice", ALICE_LINE);
      expect(await links.completePendingLink(stolen, BOB_LINE, "ok", "ev-1", T0 + 1_000)).toEqual({ ok: false, reason: "other_user" });
      // Spent by the attempt: the rightful user's later event cannot use it either.
      expect(await links.completePendingLink(stolen, ALICE_LINE, "ok", "ev-2", T0 + 1_000)).toEqual({ ok: false, reason: "used" });
      // The re-run of the refused event is refused the same way.
      expect(await links.completePendingLink(stolen, BOB_LINE, "ok", "ev-1", T0 + 1_000)).toEqual({ ok: false, reason: "other_user" });

      const late = await pending("alice", ALICE_LINE);
      expect(await links.completePendingLink(late, ALICE_LINE, "ok", "ev-3", T0 + TEN_MINUTES)).toEqual({ ok: false, reason: "expired" });

      const failed = await pending("alice", ALICE_LINE);
      expect(await links.completePendingLink(failed, ALICE_LINE, "failed", "ev-4", T0 + 1_000)).toEqual({ ok: false, reason: "failed" });
      expect(await links.completePendingLink(failed, ALICE_LINE, "ok", "ev-5", T0 + 1_000)).toEqual({ ok: false, reason: "used" });

      expect(await links.listLinks()).toEqual([]);
    });

    it("one LINE user, one kintone user: linking again replaces the link of either", async () => {
      await linked("alice", ALICE_LINE);
      // alice connects from another LINE account: her old one is no longer hers.
      await linked("alice", BOB_LINE, T0 + 2_000);
      expect(await links.getLinkByLineUser(ALICE_LINE)).toBeUndefined();
      expect((await links.getLinkByKintoneUser("alice"))?.lineUserId).toBe(BOB_LINE);
      // That LINE account then proves to be carol: alice has no link left.
      await linked("carol", BOB_LINE, T0 + 3_000);
      expect(await links.getLinkByKintoneUser("alice")).toBeUndefined();
      expect((await links.listLinks()).map((link) => [link.kintoneUserCode, link.lineUserId])).toEqual([["carol", BOB_LINE]]);
    });

    it("two events linking the same kintone user at once leave one link", async () => {
      const [first, second] = [await pending("alice", ALICE_LINE), await pending("alice", BOB_LINE)];
      const results = await Promise.all([
        links.completePendingLink(first, ALICE_LINE, "ok", "ev-1", T0 + 1_000),
        links.completePendingLink(second, BOB_LINE, "ok", "ev-2", T0 + 1_000),
      ]);
      expect(results.every((result) => result.ok)).toBe(true);
      const all = await links.listLinks();
      expect(all).toHaveLength(1);
      expect(all[0]?.kintoneUserCode).toBe("alice");
    });

    it("marks a link for reconnecting, deletes links by kintone user or LINE user", async () => {
      await linked("alice", ALICE_LINE);
      await linked("bob", BOB_LINE);
      await links.markLinkNeedsReconnect("alice", T0 + 5_000);
      expect((await links.getLinkByKintoneUser("alice"))?.state).toBe("reconnect");
      // Connecting again makes it active.
      await linked("alice", ALICE_LINE, T0 + 6_000);
      expect(await links.getLinkByKintoneUser("alice")).toMatchObject({ state: "active", linkedAt: T0 + 6_000 });

      expect(await links.deleteLink("alice")).toBe(true);
      expect(await links.deleteLink("alice")).toBe(false);
      expect(await links.getLinkByLineUser(ALICE_LINE)).toBeUndefined();
      expect(await links.deleteLinkByLineUser(BOB_LINE)).toMatchObject({ kintoneUserCode: "bob", lineUserId: BOB_LINE });
      expect(await links.deleteLinkByLineUser(BOB_LINE)).toBeUndefined();
      expect(await links.listLinks()).toEqual([]);
    });

    it("a connect start is spent once, and not after it expired", async () => {
      await links.createConnectStart({ tokenHash: "t1", lineUserId: ALICE_LINE, linkToken: "lt1", createdAt: T0, expiresAt: T0 + TEN_MINUTES });
      await links.createConnectStart({ tokenHash: "t2", lineUserId: BOB_LINE, linkToken: "lt2", createdAt: T0, expiresAt: T0 + TEN_MINUTES });
      expect(await links.takeConnectStart("t1", T0 + 1_000)).toEqual({ lineUserId: ALICE_LINE, linkToken: "lt1" });
      expect(await links.takeConnectStart("t1", T0 + 1_000)).toBeUndefined();
      expect(await links.takeConnectStart("t2", T0 + TEN_MINUTES)).toBeUndefined();
      expect(await links.takeConnectStart("unknown", T0)).toBeUndefined();
    });

    it("of many requests racing for one start, one gets it", async () => {
      await links.createConnectStart({ tokenHash: "t1", lineUserId: ALICE_LINE, linkToken: "lt1", createdAt: T0, expiresAt: T0 + TEN_MINUTES });
      const taken = await Promise.all(Array.from({ length: 8 }, () => links.takeConnectStart("t1", T0 + 1_000)));
      expect(taken.filter(Boolean)).toHaveLength(1);
    });

    it("an OAuth state is spent once, only by the browser it was made for, and not after it expired", async () => {
      const state = { stateHash: "s1", browserHash: "b1", lineUserId: ALICE_LINE, linkToken: "lt1", createdAt: T0, expiresAt: T0 + TEN_MINUTES };
      await links.createConnectState(state);
      await links.createConnectState({ ...state, stateHash: "s2" });
      // Another browser (or none): refused, and the state stays for the right one.
      expect(await links.takeConnectState("s1", "other-browser", T0 + 1_000)).toBeUndefined();
      expect(await links.takeConnectState("s1", "b1", T0 + 1_000)).toEqual({ lineUserId: ALICE_LINE, linkToken: "lt1" });
      expect(await links.takeConnectState("s1", "b1", T0 + 1_000)).toBeUndefined();
      expect(await links.takeConnectState("s2", "b1", T0 + TEN_MINUTES)).toBeUndefined();
    });

    it("pruning removes the connect flow's steps that expired before the cutoff, and keeps links", async () => {
      await links.createConnectStart({ tokenHash: "old", lineUserId: ALICE_LINE, linkToken: "lt", createdAt: T0, expiresAt: T0 + TEN_MINUTES });
      await links.createConnectState({ stateHash: "old", browserHash: "b", lineUserId: ALICE_LINE, linkToken: "lt", createdAt: T0, expiresAt: T0 + TEN_MINUTES });
      await pending("alice", ALICE_LINE);
      await linked("bob", BOB_LINE); // its nonce is spent and expired too
      const later = T0 + 2 * TEN_MINUTES;
      await links.createConnectStart({ tokenHash: "new", lineUserId: ALICE_LINE, linkToken: "lt", createdAt: later, expiresAt: later + TEN_MINUTES });

      expect(await store.pruneFinished(T0 + TEN_MINUTES + 1)).toBe(4);
      expect(await links.takeConnectStart("new", later)).toEqual({ lineUserId: ALICE_LINE, linkToken: "lt" });
      expect((await links.listLinks()).map((link) => link.kintoneUserCode)).toEqual(["bob"]);
    });
  });
}
