import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeaseLostError, type InboundEvent, type Job, type NotificationInput } from "../../relay/src/store/relay-store.js";
import { MIGRATIONS } from "../../relay/src/store/postgres/pg-schema.js";
import { openPostgresStore, type PostgresStore } from "../../relay/src/store/postgres/pg-store.js";
import { startTestPostgres, type TestPostgres } from "../helpers/test-postgres.js";
import { freePort } from "../../scripts/bench/processes.js"; // a port nothing listens on once it returns

/**
 * What the PostgreSQL store does across instances, beyond the store contract both stores share:
 * migrations when instances start together, the error an operator reads for a bad
 * RELAY_DATABASE_URL, wake-ups between instances, the shared channel token, fencing after a
 * lease was taken over, and per-user order when instances claim at once.
 */

let server: TestPostgres;
const opened: PostgresStore[] = [];

beforeAll(async () => {
  server = await startTestPostgres();
});

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close().catch(() => undefined)));
  await server?.stop();
});

async function open(url: string): Promise<PostgresStore> {
  const store = await openPostgresStore(url, { poolSize: 4 });
  opened.push(store);
  return store;
}

async function rows<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const input: NotificationInput = { appId: "1", recordId: "7", action: "Approve", status: "Draft", nextStatus: "Approved", rules: '{"version":1,"rules":[]}' };

const event = (eventId: string, sourceKey: string, timestamp: number): InboundEvent => ({
  eventId,
  type: "message",
  sourceKey,
  timestamp,
  redelivery: false,
  body: JSON.stringify({ webhookEventId: eventId }),
});

describe("opening", () => {
  it("applies each migration once when three instances start together on a fresh database", async () => {
    const url = await server.newDatabase();
    const stores = await Promise.all([open(url), open(url), open(url)]);

    const applied = await rows<{ version: number; n: string }>(url, `SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version ORDER BY version`);
    expect(applied).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1, n: "1" })));
    // Each instance works on the one schema: what one stores, another reads.
    const { id } = await stores[0]!.enqueueNotification(input, "dedup-1", 1_000);
    expect((await stores[2]!.getNotification(id))?.state).toBe("pending");
    // A fourth, later instance finds everything applied.
    await open(url);
    expect(await rows(url, `SELECT version FROM schema_migrations`)).toHaveLength(MIGRATIONS.length);
  });

  it("names the host and database, never the password, and why, when the server refuses the connection", async () => {
    const port = await freePort();
    const error = await openPostgresStore(`postgres://relay:s3cret-pw@127.0.0.1:${port}/relay_db`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`RELAY_DATABASE_URL (host 127.0.0.1:${port}, database relay_db)`);
    expect(message).toMatch(/connection refused/);
    expect(message).not.toContain("s3cret-pw");
  });

  it("says the database does not exist when the server has no such database", async () => {
    const url = new URL(server.url("relay_missing_db"));
    const error = await openPostgresStore(url.toString()).catch((caught: unknown) => caught);
    const message = (error as Error).message;
    expect(message).toContain(`database relay_missing_db)`);
    expect(message).toMatch(/does not exist/);
    if (url.password) expect(message).not.toContain(`:${url.password}@`);
  });

  it("refuses a setting that is not a PostgreSQL URL", async () => {
    const error = await openPostgresStore("mysql://relay:pw@127.0.0.1/relay").catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/^RELAY_DATABASE_URL: .*not a postgres:\/\/user:password@host:port\/database URL/);
    expect((error as Error).message).not.toContain("pw@");
  });
});

describe("several instances", () => {
  it("wakes another instance within a second when one enqueues, and that one can claim the job", async () => {
    const url = await server.newDatabase();
    const [listening, enqueueing] = await Promise.all([open(url), open(url)]);
    const wakeUps: number[] = [];
    const unsubscribe = listening.onJobsAvailable(() => wakeUps.push(Date.now()));

    const before = Date.now();
    const { id } = await enqueueing.enqueueNotification(input, "wake-1", before);
    await waitFor(() => wakeUps.length > 0, 1_000);
    expect(wakeUps[0]! - before).toBeLessThan(1_000);
    const claimed = await listening.claimJob(Date.now(), 30_000);
    expect(claimed).toMatchObject({ kind: "notification", refId: id });

    // A webhook event stored on one instance wakes the other as well.
    const count = wakeUps.length;
    await enqueueing.storeWebhookEvents([event("ev-wake", "U1", 1)], Date.now());
    await waitFor(() => wakeUps.length > count, 1_000);

    unsubscribe();
    const after = wakeUps.length;
    await enqueueing.enqueueNotification(input, "wake-2", Date.now());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wakeUps.length).toBe(after);
  });

  it("listens again after its connection was cut, wakes its worker once for what it missed, then hears the others again", async () => {
    const url = await server.newDatabase();
    const [listening, enqueueing] = await Promise.all([open(url), open(url)]);
    let wakeUps = 0;
    listening.onJobsAvailable(() => wakeUps++);

    // The server ends the LISTEN sessions (a failover, an idle-session killer): both instances'.
    const cut = await rows<{ cut: boolean }>(
      url,
      `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN relay_jobs'`,
    );
    expect(cut).toEqual([{ cut: true }, { cut: true }]);
    // Enqueued while nobody listens: the NOTIFY reaches no one, the reconnect's wake-up covers it.
    await enqueueing.enqueueNotification(input, "while-cut", Date.now());
    await waitFor(() => wakeUps === 1, 5_000);
    await enqueueing.enqueueNotification(input, "after-reconnect", Date.now());
    await waitFor(() => wakeUps === 2, 1_000);
  });

  it("issues the shared channel token once when three instances ask at the same time", async () => {
    const url = await server.newDatabase();
    const stores = await Promise.all([open(url), open(url), open(url)]);
    let issued = 0;
    const issue = async () => {
      issued++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { token: `token-${issued}`, expiresAt: Date.now() + 30 * 24 * 3600_000 };
    };

    const validUntil = Date.now() + 3600_000;
    const tokens = await Promise.all(stores.map((store) => store.sharedChannelToken("channel-1", validUntil, issue)));
    expect(issued).toBe(1);
    expect(tokens.map((token) => token.token)).toEqual(["token-1", "token-1", "token-1"]);
    expect(await rows(url, `SELECT key, token FROM channel_tokens`)).toEqual([{ key: "channel-1", token: "token-1" }]);

    // LINE refused it: the next asker issues a new one, and the others read that one.
    await stores[1]!.forgetChannelToken("channel-1", "token-1");
    const renewed = await Promise.all(stores.map((store) => store.sharedChannelToken("channel-1", validUntil, issue)));
    expect(issued).toBe(2);
    expect(renewed.map((token) => token.token)).toEqual(["token-2", "token-2", "token-2"]);
    // A token that would lapse before `validUntil` is renewed, not handed out.
    const later = await stores[2]!.sharedChannelToken("channel-1", Date.now() + 60 * 24 * 3600_000, issue);
    expect(later.token).toBe("token-3");
  });

  it("refuses the first holder's result once its lapsed lease was taken over, and keeps the second holder's lease", async () => {
    const url = await server.newDatabase();
    const [first, second] = await Promise.all([open(url), open(url)]);
    const now = 1_000_000;
    const { id } = await first.enqueueNotification(input, "fenced", now);

    const firstClaim = await first.claimJob(now, 1_000);
    expect(firstClaim?.refId).toBe(id);
    // Before the lease lapses, nobody else gets the job.
    expect(await second.claimJob(now + 999, 1_000)).toBeUndefined();
    const secondClaim = await second.claimJob(now + 1_000, 30_000);
    expect(secondClaim?.id).toBe(firstClaim?.id);
    expect(secondClaim?.lease).not.toBe(firstClaim?.lease);

    await expect(first.finishJob(firstClaim!)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(first.finishNotification(firstClaim!, id, "no_match", "late", now + 2_000)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(first.retryJob(firstClaim!, now + 5_000, "late")).rejects.toBeInstanceOf(LeaseLostError);
    expect(await first.extendLeases([firstClaim!, secondClaim!], now + 60_000)).toEqual([firstClaim]);

    const [job] = await rows<{ state: string; lease_token: string; lease_until: string }>(url, `SELECT state, lease_token, lease_until FROM jobs WHERE id = $1`, [
      firstClaim!.id,
    ]);
    expect(job).toEqual({ state: "running", lease_token: secondClaim!.lease, lease_until: String(now + 60_000) });
    expect((await second.getNotification(id))?.state).toBe("pending");

    await second.finishNotification(secondClaim!, id, "no_match", "no rule matched", now + 3_000);
    expect((await first.getNotification(id))?.state).toBe("no_match");
    expect(await rows(url, `SELECT state, lease_token FROM jobs WHERE id = $1`, [firstClaim!.id])).toEqual([{ state: "done", lease_token: null }]);
    expect(await first.releaseOrphanedLeases()).toBe(0);
  });

  it("runs each user's events one at a time and in order while three instances claim at once", async () => {
    const url = await server.newDatabase();
    const stores = await Promise.all([open(url), open(url), open(url)]);
    const users = 12;
    const perUser = 5;
    // Half of it in one request, user by user, each user's newest event first: only the order
    // keys (the events' timestamps) say which runs first, and nothing but the store keeps a claim
    // from taking one user's events together.
    const upfront: InboundEvent[] = [];
    for (let user = 0; user < users; user++) for (let seq = 2; seq >= 0; seq--) upfront.push(event(`ev-${user}-${seq}`, `U${user}`, 1_000 + seq));
    await stores[0]!.storeWebhookEvents(upfront, Date.now());

    const running = new Set<string>();
    const finished = new Map<string, number[]>();
    let overlaps = 0;
    const work = async (store: PostgresStore) => {
      const deadline = Date.now() + 20_000;
      while ([...finished.values()].flat().length < users * perUser && Date.now() < deadline) {
        const jobs: Job[] = await store.claimJobs(Date.now(), 30_000, ["webhook-event"], 4);
        if (jobs.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        const owners = jobs.map((job) => job.refId.split("-")[1]!);
        expect(new Set(owners).size).toBe(owners.length);
        await Promise.all(
          jobs.map(async (job, i) => {
            const user = owners[i]!;
            if (running.has(user)) overlaps++;
            running.add(user);
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
            finished.set(user, [...(finished.get(user) ?? []), Number(job.refId.split("-")[2])]);
            running.delete(user);
            await store.finishWebhookEvent(job, job.refId, "done");
          }),
        );
      }
    };
    // The other half arrives one event per request on another instance while the first ones
    // run: an event stored while its user's previous one ends elsewhere must not be left waiting.
    const arrive = async () => {
      for (let seq = 3; seq < perUser; seq++) {
        for (let user = 0; user < users; user++) {
          await stores[1]!.storeWebhookEvents([event(`ev-${user}-${seq}`, `U${user}`, 1_000 + seq)], Date.now());
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        }
      }
    };
    await Promise.all([...stores.map(work), arrive()]);

    expect(overlaps).toBe(0);
    expect([...finished.keys()]).toHaveLength(users);
    for (const order of finished.values()) expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(await rows(url, `SELECT state, COUNT(*) AS n FROM webhook_events GROUP BY state`)).toEqual([{ state: "done", n: String(users * perUser) }]);
    expect(await rows(url, `SELECT COUNT(*) AS n FROM jobs WHERE state <> 'done'`)).toEqual([{ n: "0" }]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
