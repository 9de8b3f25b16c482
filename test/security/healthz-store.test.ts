import { afterEach, describe, expect, it } from "vitest";
import { startStack, waitFor, type Stack } from "../helpers/start-stack.js";

/**
 * `/healthz` is what a load balancer or an uptime check asks. A relay whose store cannot commit
 * answers 202/200 to nobody's benefit (nothing is stored), so it must say it is unhealthy, and why.
 *
 * The store is made unable to write with SQLite's own switch on the store's connection
 * (`PRAGMA query_only`): every write then fails with SQLITE_READONLY, as it does for a database
 * on a read-only file system. File permissions cannot be used: the tests may run as root.
 */
let stack: Stack;
afterEach(async () => {
  stack.store.db.pragma("query_only = OFF");
  await stack.close();
});

const healthz = async () => {
  const response = await fetch(`${stack.relayUrl}/healthz`);
  return { status: response.status, body: (await response.json()) as unknown };
};

describe("GET /healthz reports whether the store can write", () => {
  it("200 {ok: true} while it can; 503 with code store_unwritable and SQLite's reason when it cannot; 200 again after", async () => {
    stack = await startStack();
    expect(await healthz()).toEqual({ status: 200, body: { ok: true } });

    stack.store.db.pragma("query_only = ON");
    // The answer may come from the check made a moment ago: within a few seconds it must turn.
    const failing = await waitFor(async () => {
      const answer = await healthz();
      return answer.status === 503 ? answer : undefined;
    }, 10_000, "healthz to report the store");
    expect(failing.body).toEqual({ ok: false, error: { code: "store_unwritable", message: expect.stringMatching(/readonly|read-only/i) } });

    stack.store.db.pragma("query_only = OFF");
    await waitFor(async () => (await healthz()).status === 200, 10_000, "healthz to recover");
  });

  it("the check is a tiny write made at most once every few seconds, however often healthz is asked", async () => {
    stack = await startStack();
    const lastCheck = () => (stack.store.db.prepare(`SELECT checked_at FROM store_health`).get() as { checked_at: number } | undefined)?.checked_at;
    const seen = new Set<number | undefined>();
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      expect((await healthz()).status).toBe(200);
      seen.add(lastCheck());
    }
    const elapsed = Date.now() - started;
    expect(seen.has(undefined)).toBe(false);
    // One write per interval at most (plus the one in force when the loop began).
    expect(seen.size).toBeLessThanOrEqual(Math.floor(elapsed / 2000) + 2);
  });
});
