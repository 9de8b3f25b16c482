import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS, demoRuleSet } from "../../emulators/demo-app.js";
import { createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen } from "../../emulators/listen.js";
import { followEvent, postbackEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { startRelayProcess, type RelayProcess } from "../helpers/relay-process.js";
import { TEST_CHANNEL_ID, TEST_CHANNEL_SECRET, TEST_RELAY_SECRET, waitFor } from "../helpers/start-stack.js";
import { startTestPostgres, type TestPostgres } from "../helpers/test-postgres.js";

/**
 * Several relay processes on one PostgreSQL, as `RELAY_DATABASE_URL` runs them: work spread over
 * them, instances killed with SIGKILL while they hold work. Each instance gets its own long-lived
 * channel access token, so the LINE emulator's log says which instance made a request (which one
 * held a push or a reply in flight when it was killed).
 */

const USERS = Array.from({ length: 24 }, (_, i) => "U" + (0xc0 + i).toString(16).padStart(32, "0"));
const PUSH = "/v2/bot/message/push";
const REPLY = "/v2/bot/message/reply";

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function startCluster(options: { tokens: string[]; env?: Record<string, string> }) {
  const postgres: TestPostgres = await startTestPostgres();
  cleanup.push(() => postgres.stop());
  const databaseUrl = await postgres.newDatabase();
  const line = createLineEmulator({ channels: [{ channelId: TEST_CHANNEL_ID, channelSecret: TEST_CHANNEL_SECRET }], longLivedTokens: options.tokens });
  const kintone = createKintoneEmulator();
  kintone.addApp({ id: DEMO_APP_ID, fields: DEMO_FIELDS, process: DEMO_PROCESS, apiTokens: [{ token: DEMO_API_TOKEN }] });
  const lineServer = await listen(line.app);
  const kintoneServer = await listen(kintone.app);
  const dir = mkdtempSync(join(tmpdir(), "relay-cluster-"));
  const relays: RelayProcess[] = [];
  cleanup.push(async () => {
    for (const relay of relays) if (relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill("SIGKILL");
    await Promise.all(relays.map((relay) => relay.exited));
    await lineServer.close();
    await kintoneServer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on("error", () => undefined);
  await db.connect();
  cleanup.push(() => db.end());
  return {
    line,
    kintone,
    db,
    /** A relay process on the shared database; `token`: its own LINE channel access token (or the channel's, see env). */
    async start(token?: string) {
      const relay = await startRelayProcess(
        {
          RELAY_SECRET: TEST_RELAY_SECRET,
          LINE_CHANNEL_SECRET: TEST_CHANNEL_SECRET,
          ...(token ? { LINE_CHANNEL_ACCESS_TOKEN: token } : {}),
          LINE_API_BASE_URL: lineServer.url,
          KINTONE_BASE_URL: kintoneServer.url,
          KINTONE_API_TOKEN: DEMO_API_TOKEN,
          RELAY_DATABASE_URL: databaseUrl,
          // Takeover within 3 s instead of the default 30 s, to keep the test short.
          RELAY_JOB_LEASE_MS: "3000",
          RELAY_CONFIRM_TIMEOUT_MS: "60000",
          ...options.env,
        },
        dir,
        // Several processes compile the relay at once on a shared machine.
        { startTimeoutMs: 90_000 },
      );
      relays.push(relay);
      return relay;
    },
  };
}

const bearer = (token: string) => `Bearer ${token}`;

async function notify(relayUrl: string, recordId: string) {
  const response = await fetch(`${relayUrl}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: bearer(TEST_RELAY_SECRET) },
    body: JSON.stringify({ appId: DEMO_APP_ID, recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules: JSON.stringify(demoRuleSet()) }),
  });
  expect(response.status).toBe(202);
}

async function kill(relay: RelayProcess) {
  relay.child.kill("SIGKILL");
  expect(await relay.exited).toBe("SIGKILL");
}

it(
  "three relays on one PostgreSQL: one killed holding pushes and never restarted, another killed holding taps and replaced; " +
    "every recipient pushed once, every tap acknowledged once, each user's events in order",
  async () => {
    const [tokenA, tokenB, tokenC, tokenD] = ["a", "b", "c", "d"].map((name) => `instance-${name}-token-abcdefghijklmnopqrstuvwxyz`) as [string, string, string, string];
    const cluster = await startCluster({ tokens: [tokenA, tokenB, tokenC, tokenD] });
    const { line, kintone, db } = cluster;
    const records = USERS.map((userId, i) => {
      const { id } = kintone.addRecord(DEMO_APP_ID, { order_no: `C-${i}`, line_user_id: userId });
      kintone.runAction(DEMO_APP_ID, id, "Approve");
      return { recordId: String(id), userId };
    });

    // Phase 1: pushes. LINE takes 2.5 s per push, so the instances hold pushes for seconds.
    const [a, b, c] = await Promise.all([cluster.start(tokenA), cluster.start(tokenB), cluster.start(tokenC)]);
    line.delayNext("push", 2_500, 1_000);
    await Promise.all(records.map(({ recordId }, i) => notify(([a, b, c][i % 3] as RelayProcess).url, recordId)));
    const inFlightBy = (path: string, token: string) =>
      line.requests.filter((r) => r.path === path && r.status === 0 && r.headers.authorization === bearer(token));
    await waitFor(() => inFlightBy(PUSH, tokenA).length > 0, 20_000, "instance A to hold a push in flight");
    const running = await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM jobs WHERE state = 'running' AND kind = 'delivery'`);
    expect(running.rows[0]?.n).toBeGreaterThan(0);
    // A dies mid-push and never comes back: its leased jobs lapse and B and C take them over.
    await kill(a);

    await waitFor(() => USERS.every((userId) => line.delivered.some((d) => d.kind === "push" && d.to.includes(userId))), 60_000, "a push to every user");
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // room for a duplicate to show
    const pushes = line.delivered.filter((d) => d.kind === "push");
    for (const userId of USERS) expect(pushes.filter((d) => d.to.includes(userId)), userId).toHaveLength(1);
    expect(new Set(pushes.map((d) => d.retryKey)).size).toBe(USERS.length);
    // Work really was spread: more than one instance pushed.
    const pushers = new Set(line.requests.filter((r) => r.path === PUSH && r.status === 200).map((r) => r.headers.authorization));
    expect(pushers.size).toBeGreaterThan(1);

    // Phase 2: taps. Each user taps "Got it", then follows again a second later (LINE sends both
    // in one request); each request goes to B and, as a redelivery, to C at once. Replies take
    // 400 ms, so an instance running a user's second event early would answer it first.
    line.delayNext("reply", 400, 1_000);
    const data = (userId: string) => {
      const message = pushes.find((d) => d.to.includes(userId))?.messages;
      const match = /"data":"([^"]+)"/.exec(JSON.stringify(message));
      if (!match?.[1]) throw new Error(`no postback data in the push to ${userId}`);
      return match[1];
    };
    const taps = USERS.map((userId, i) => {
      const at = Date.now() + i;
      const tapToken = line.issueReplyToken({ userId });
      const followToken = line.issueReplyToken({ userId });
      const events = [postbackEvent(data(userId), { userId, replyToken: tapToken, timestamp: at }), followEvent({ userId, replyToken: followToken, timestamp: at + 1_000 })];
      return { userId, tapToken, followToken, events };
    });
    const sent = await Promise.all(
      taps.flatMap(({ events }) => [
        postWebhook(b.url, webhookBody(events), TEST_CHANNEL_SECRET),
        postWebhook(c.url, webhookBody(events.map((event) => ({ ...event, deliveryContext: { isRedelivery: true } }))), TEST_CHANNEL_SECRET),
      ]),
    );
    expect(sent.map((response) => response.status)).toEqual(sent.map(() => 200));
    await waitFor(() => inFlightBy(REPLY, tokenB).length > 0, 20_000, "instance B to hold a reply in flight");
    // B dies mid-reply; a new instance takes its place.
    await kill(b);
    const d = await cluster.start(tokenD);

    await waitFor(
      () => records.every(({ recordId }) => kintone.getRecord(DEMO_APP_ID, recordId).ack_status?.value === "Acknowledged"),
      60_000,
      "every tap acknowledged",
    );
    const tokensReplied = () => new Set(line.delivered.filter((r) => r.kind === "reply").map((r) => r.replyToken));
    await waitFor(() => taps.every((tap) => tokensReplied().has(tap.followToken)), 30_000, "every follow answered");
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    for (const { recordId } of records) {
      expect(kintone.comments(DEMO_APP_ID, recordId).map((comment) => comment.text), recordId).toHaveLength(1);
    }
    const replies = line.delivered.filter((r) => r.kind === "reply");
    for (const { userId, tapToken, followToken } of taps) {
      const order = replies.filter((r) => r.replyToken === tapToken || r.replyToken === followToken).map((r) => r.replyToken);
      // One reply per event, the tap's first: the follow ran only after the tap finished.
      expect(order, userId).toEqual([tapToken, followToken]);
    }
    expect(await db.query(`SELECT COUNT(*)::int AS n FROM webhook_events`)).toMatchObject({ rows: [{ n: USERS.length * 2 }] });
    expect(await db.query(`SELECT COUNT(*)::int AS n FROM jobs WHERE state <> 'done'`)).toMatchObject({ rows: [{ n: 0 }] });
    // C and the new instance D are still serving.
    for (const relay of [c, d]) expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  },
  180_000,
);

it("three relays issue one stateless channel access token between them and all push with it", async () => {
  const cluster = await startCluster({
    tokens: [],
    env: { LINE_CHANNEL_ID: TEST_CHANNEL_ID, LINE_CHANNEL_ACCESS_TOKEN: "" },
  });
  const { line, kintone } = cluster;
  const relays = await Promise.all([cluster.start(), cluster.start(), cluster.start()]);
  const records = USERS.slice(0, 6).map((userId, i) => {
    const { id } = kintone.addRecord(DEMO_APP_ID, { order_no: `T-${i}`, line_user_id: userId });
    kintone.runAction(DEMO_APP_ID, id, "Approve");
    return String(id);
  });
  await Promise.all(records.map((recordId, i) => notify((relays[i % 3] as RelayProcess).url, recordId)));
  await waitFor(() => line.delivered.filter((d) => d.kind === "push").length === records.length, 30_000, "six pushes");
  const issued = line.requests.filter((r) => r.path === "/oauth2/v3/token" && r.status === 200);
  expect(issued).toHaveLength(1);
  expect(new Set(line.delivered.map((d) => d.accessToken)).size).toBe(1);
}, 120_000);
