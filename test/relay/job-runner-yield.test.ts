import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../relay/src/clock.js";
import { createLogger } from "../../relay/src/logger.js";
import type { Job } from "../../relay/src/store/relay-store.js";
import { openSqliteStore, type SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { createJobRunner, type JobRunner } from "../../relay/src/worker/job-runner.js";
import { createIngestPressure } from "../../relay/src/worker/ingest-pressure.js";

/**
 * While the webhook is under pressure the runner runs one job per lane; when it is not, every
 * slot. Jobs are held open until the test lets them go, so the store's `running` rows show what
 * the runner has taken at once.
 */
describe("job runner: the webhook's answers come first", () => {
  let store: SqliteStore;
  let runner: JobRunner | undefined;
  afterEach(async () => {
    await runner?.stop();
    await store.close();
  });

  const setUp = async (high: () => boolean) => {
    store = openSqliteStore(":memory:");
    const events = Array.from({ length: 12 }, (_, i) => ({
      eventId: `E${i}`,
      type: "follow",
      sourceKey: `U${i}`, // twelve users: no event waits for another user's
      timestamp: i,
      redelivery: false,
      body: "{}",
    }));
    await store.storeWebhookEvents(events, 1);
    const gates: Array<() => void> = [];
    runner = createJobRunner({
      store,
      clock: systemClock,
      logger: createLogger({ level: "error" }),
      yieldTo: { high },
      handlers: {
        "webhook-event": async (job: Job) => {
          await new Promise<void>((resolve) => gates.push(resolve));
          await store.finishJob(job);
          return { done: true };
        },
      },
    });
    await runner.start();
    return { gates };
  };
  const running = () => store.db.prepare("SELECT COUNT(*) FROM jobs WHERE state = 'running'").pluck().get() as number;
  /** Until `count` jobs run (a shared machine may be slow), then a moment more, in which no further one may start. */
  const runningSettles = async (count: number) => {
    for (const until = Date.now() + 10_000; running() < count && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    return running();
  };

  it("under pressure: one webhook event at a time; once it passes, the lane's 8 slots", async () => {
    let pressure = true;
    const { gates } = await setUp(() => pressure);
    expect(await runningSettles(1)).toBe(1);
    gates.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await runningSettles(1)).toBe(1); // the next one, still alone
    expect(store.db.prepare("SELECT COUNT(*) FROM jobs WHERE state = 'done'").pluck().get()).toBe(1);
    pressure = false;
    gates.shift()?.();
    expect(await runningSettles(8)).toBe(8);
    for (const open of gates.splice(0)) open();
  });

  it("without pressure: 8 at once from the start", async () => {
    const { gates } = await setUp(() => false);
    expect(await runningSettles(8)).toBe(8);
    for (const open of gates.splice(0)) open();
  });
});

describe("ingest pressure", () => {
  it("is high only while webhook requests arrive AND the event loop is busy", () => {
    let t = 0;
    const pressure = createIngestPressure({ windowMs: 250, sampleMs: 0, busyAbove: 0.5, now: () => t });
    const spin = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    spin(30); // a busy loop, but no request yet
    expect(pressure.high()).toBe(false);
    pressure.saw();
    spin(30);
    expect(pressure.high()).toBe(true);
    t += 300; // no request for longer than the window
    spin(30);
    expect(pressure.high()).toBe(false);
  });

  it("is low while requests arrive but the loop is mostly idle", async () => {
    const pressure = createIngestPressure({ windowMs: 250, sampleMs: 0, busyAbove: 0.5, now: () => 0 });
    pressure.saw();
    await new Promise((resolve) => setTimeout(resolve, 40)); // idle
    expect(pressure.high()).toBe(false);
  });
});
