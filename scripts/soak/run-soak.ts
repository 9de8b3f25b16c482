import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessStack } from "../../test/helpers/relay-process.js";
import { createFaultSchedule } from "./fault-schedule.js";
import { createNotificationDriver } from "./notification-driver.js";
import { seededRandom, sleep } from "./random.js";
import { RelaySupervisor } from "./relay-supervisor.js";
import type { SoakOptions } from "./soak-options.js";
import { type SoakFigures, tally } from "./tally.js";
import { createTapDriver } from "./tap-driver.js";

export interface SoakReport extends SoakFigures {
  seed: number;
  loadSeconds: number;
  drainSeconds: number;
  drained: boolean;
  kills: number;
  killsAfterCommit: number;
  injectedErrors: { line: number; kintone: number; kintoneAnswersLost: number };
  outages: number;
  faultsArmed: Record<string, number>;
  webhook: { events: number; bodiesSent: number; redeliveries: number };
  deadLettered: number | null;
  problems: string[];
  relayLog: string;
}

const USERS = Array.from({ length: 10 }, (_, i) => "U" + (0xa0 + i).toString(16).padStart(32, "0"));
const displayName = (userId: string) => `Customer ${USERS.indexOf(userId)}`;

/**
 * The standing fault suite: the relay in its own process (production wiring, real HTTP), the LINE
 * and kintone emulators here. While notifications and taps flow, the relay is killed with SIGKILL
 * at random moments and restarted on the same data dir, and LINE and kintone misbehave. Then the
 * faults stop, the work drains, and what reached LINE and kintone is compared with what was owed.
 */
export async function runSoak(options: SoakOptions, print: (line: string) => void = () => {}): Promise<SoakReport> {
  const began = Date.now();
  const log = (line: string) => print(`[${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const random = seededRandom(options.seed);
  const stack = await startProcessStack({ LOG_LEVEL: "warn" });
  const { line, kintone, appId } = stack;
  USERS.forEach((userId) => line.setProfile(userId, { displayName: displayName(userId) }));
  const relay = new RelaySupervisor(() => stack.start(), log);
  const problems: string[] = [];
  try {
    await relay.start();
    const relayUrl = () => relay.url;
    const notifications = createNotificationDriver({ kintone, appId, relaySecret: stack.relaySecret, relayUrl, users: USERS, random });
    const taps = createTapDriver({ line, channelSecret: stack.channelSecret, relayUrl, random, tapShare: 0.7 });
    let faultsOn = true;
    const faults = createFaultSchedule({ line, kintone, random, killRelay: () => {
        const killed = faultsOn && relay.kill();
        if (killed) log("kill -9 right after kintone committed a comment");
        return killed;
      },
    });

    // ---- load ----
    const loadMs = options.seconds * 1000;
    const started = Date.now();
    log(`soak: seed ${options.seed}, ${options.seconds} s of load, ${options.kills} kills planned`);
    faults.start();
    // One kill at a random moment in each slice of the load, so the planned number happens.
    const killMoments = Array.from({ length: options.kills }, (_, i) => ((i + random.between(0.2, 0.9)) * loadMs) / options.kills);
    const killer = (async () => {
      for (const at of killMoments) {
        await sleep(Math.max(0, started + at - Date.now()));
        await relay.ready();
        if (relay.kill()) log("kill -9");
      }
    })();
    const interval = 1000 / options.notificationsPerSecond;
    for (let i = 0; Date.now() - started < loadMs; i++) {
      notifications.startOne();
      await sleep(Math.max(0, started + (i + 1) * interval - Date.now()));
    }
    await killer;
    faults.stop();
    faultsOn = false;
    log(`load done: ${notifications.notifications.length} notifications started, ${relay.kills} kills; draining`);

    // ---- drain: no new faults (outages run out within seconds), the relay keeps running ----
    const drainStarted = Date.now();
    const drainMs = options.drainSeconds * 1000;
    await relay.ready();
    const owed = () => tally({ line, kintone, appId, notifications: notifications.notifications, taps: taps.taps, displayName });
    let drained = false;
    while (Date.now() - drainStarted < drainMs) {
      const pending = notifications.notifications.some((n) => !n.accepted);
      // Pushes that arrive while draining are tapped too; once every owed push is in, no new taps.
      if (!pending && owed().lostPushes.length === 0) taps.stopTapping();
      if (!pending && !taps.tapping && taps.unanswered() === 0 && owed().lost === 0) {
        drained = true;
        break;
      }
      await sleep(500);
    }
    taps.stopTapping();
    log(`drain ${drained ? "done" : "NOT done within the bound"}`);
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    // Give a late duplicate every chance to show itself before counting.
    await sleep(2_000);
    await taps.stop();
    problems.push(...notifications.problems);

    const figures = tally({ line, kintone, appId, notifications: notifications.notifications, taps: taps.taps, displayName });
    const deadLettered = await countDeadLetters(relay.url, stack.relaySecret);
    const relayLog = join(tmpdir(), `soak-relay-${options.seed}.log`);
    writeFileSync(relayLog, relay.output());
    return {
      ...figures,
      seed: options.seed,
      loadSeconds: options.seconds,
      drainSeconds,
      drained,
      kills: relay.kills,
      killsAfterCommit: faults.counts.killsAfterCommit,
      injectedErrors: {
        line: line.requests.filter((r) => r.status === 0 || r.status === 429 || r.status >= 500).length,
        kintone: kintone.requests.filter((r) => r.status === 429 || r.status >= 500).length,
        kintoneAnswersLost: faults.counts.droppedAfterCommit,
      },
      outages: faults.counts.outages,
      faultsArmed: faults.counts.armed,
      webhook: taps.stats(),
      deadLettered,
      problems,
      relayLog,
    };
  } finally {
    await stack.close();
  }
}

/** GET /v1/dead-letters with the master secret; null when the relay offers no such list. */
async function countDeadLetters(url: string | null, secret: string): Promise<number | null> {
  if (!url) return null;
  const response = await fetch(`${url}/v1/dead-letters`, { headers: { authorization: `Bearer ${secret}` } });
  if (response.status === 404) return null;
  const body: unknown = await response.json();
  if (!response.ok || !Array.isArray(body)) throw new Error(`GET /v1/dead-letters answered ${response.status}: ${JSON.stringify(body)}`);
  return body.length;
}
