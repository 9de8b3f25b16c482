import type { Clock } from "../clock.js";
import { runWithLogContext } from "../log-context.js";
import type { Logger } from "../logger.js";
import type { DeadLetterRow, Job, JobKind, RelayStore } from "../store/relay-store.js";
import { backoffMs } from "./backoff.js";

export { backoffMs } from "./backoff.js";

/**
 * A handler either finishes its job (committing its result and the job's end in one store call)
 * and returns `done`, or asks to run again later:
 * - `retryInMs`: the attempt failed transiently (timeout, 429, 5xx, network). Failures count
 *   towards the give-up time; past it the job becomes a dead letter.
 * - `waitMs`: nothing failed, the job waits for something (kintone to show the new status, a
 *   lost race to be decided again); the give-up clock stops.
 * A handler that throws failed unexpectedly: it backs off like a transient failure, and is given
 * up the same way, so no error retries without bound.
 */
export type JobResult = { done: true } | { retryInMs: number; note: string } | { waitMs: number; note: string };
export type JobHandler = (job: Job) => Promise<JobResult>;

/** Capacity reserved for some job kinds: a backlog in one lane never delays another. */
export interface JobLane {
  name: string;
  kinds: readonly JobKind[];
  slots: number;
}

/**
 * Taps first: LINE's reply token lives one minute, so webhook events have their own slots and
 * never wait behind notifications (kintone reads) or deliveries (pushes).
 */
export const DEFAULT_LANES: readonly JobLane[] = [
  { name: "webhook-events", kinds: ["webhook-event"], slots: 4 },
  { name: "notifications", kinds: ["notification"], slots: 2 },
  { name: "deliveries", kinds: ["delivery"], slots: 4 },
];

export const DEFAULT_GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

export interface JobRunnerOptions {
  store: RelayStore;
  handlers: Partial<Record<JobKind, JobHandler>>;
  clock: Clock;
  logger: Logger;
  lanes?: readonly JobLane[];
  /** When set, every lane gets this many slots. */
  concurrency?: number;
  leaseMs?: number;
  /** Upper bound on how long the runner sleeps without looking at the store. */
  idlePollMs?: number;
  /** A job still failing this long after its first failure becomes a dead letter (RELAY_GIVE_UP_AFTER_MS). */
  giveUpAfterMs?: number;
  /** First delay of the backoff for thrown errors (doubles per attempt). */
  retryBaseMs?: number;
  /** Told how long each run of a job took (relay_job_duration_seconds). */
  onJobRan?: (kind: JobKind, seconds: number) => void;
}

export interface JobRunner {
  start(): Promise<void>;
  /** Something was enqueued: look now instead of at the next poll. */
  wake(): void;
  stop(): Promise<void>;
  /** Resolves when no job is running or due (tests and graceful shutdown). */
  idle(): Promise<void>;
}


export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { store, handlers, clock, logger } = options;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const idlePollMs = options.idlePollMs ?? 1000;
  const giveUpAfterMs = options.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
  const lanes = (options.lanes ?? DEFAULT_LANES).map((lane) => ({
    ...lane,
    slots: options.concurrency ?? lane.slots,
    running: new Set<Promise<void>>(),
  }));
  const running = () => lanes.reduce((sum, lane) => sum + lane.running.size, 0);
  const allRunning = () => lanes.flatMap((lane) => [...lane.running]);
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let filling = false;
  let refill = false;

  const giveUp = async (job: Job, error: string, now: number): Promise<DeadLetterRow> => {
    const letter = await store.deadLetterJob(job.id, error, now);
    // Once, at error: what (kind, ids), where (app, record), why (the last failure), since when.
    logger.error("gave up: work moved to dead letters (GET /v1/dead-letters, npm run dead-letters)", {
      deadLetter: letter.id,
      kind: letter.kind,
      ref: letter.refId,
      appId: letter.appId,
      recordId: letter.recordId,
      attempts: letter.attempts,
      firstFailedAt: new Date(letter.firstFailedAt).toISOString(),
      error,
    });
    return letter;
  };

  const failed = async (job: Job, error: string, retryInMs: number) => {
    const now = clock.now();
    if (now - (job.firstFailedAt ?? now) >= giveUpAfterMs) {
      await giveUp(job, error, now);
      return;
    }
    await store.retryJob(job.id, now + retryInMs, error, { failed: true, now });
  };

  // Every line logged while the job runs carries its request id (stored with the job) and its id.
  const runJob = (job: Job) => runWithLogContext({ job: job.id, ...(job.requestId ? { reqId: job.requestId } : {}) }, () => timed(job));

  const timed = async (job: Job) => {
    const started = performance.now();
    try {
      await runHandler(job);
    } finally {
      options.onJobRan?.(job.kind, (performance.now() - started) / 1000);
    }
  };

  const runHandler = async (job: Job) => {
    try {
      const handler = handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
      const result = await handler(job);
      if ("waitMs" in result) await store.retryJob(job.id, clock.now() + result.waitMs, result.note, { failed: false, now: clock.now() });
      else if ("retryInMs" in result) await failed(job, result.note, result.retryInMs);
    } catch (error) {
      const delay = backoffMs(job.attempts, options.retryBaseMs);
      logger.error("job failed unexpectedly; will retry", { job: job.id, kind: job.kind, attempts: job.attempts + 1, retryInMs: delay, error });
      await failed(job, `unexpected: ${(error as Error).message}`, delay).catch((storeError: unknown) =>
        logger.error("could not reschedule job", { job: job.id, error: storeError }),
      );
    }
  };

  const fill = async () => {
    if (filling) {
      refill = true;
      return;
    }
    filling = true;
    try {
      do {
        refill = false;
        for (const lane of lanes) {
          // The lane's free slots are filled by one claim (one transaction), not one claim each.
          while (!stopped && lane.running.size < lane.slots) {
            const free = lane.slots - lane.running.size;
            const jobs = await store.claimJobs(clock.now(), leaseMs, lane.kinds, free);
            for (const job of jobs) {
              const task = runJob(job).finally(() => {
                lane.running.delete(task);
                void fill();
              });
              lane.running.add(task);
            }
            if (jobs.length < free) break;
          }
        }
      } while (refill && !stopped);
      if (!stopped) await schedule();
    } catch (error) {
      logger.error("job runner could not read the store", { error });
      if (!stopped) arm(idlePollMs);
    } finally {
      filling = false;
    }
  };

  const arm = (delay: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void fill(), delay);
    timer.unref();
  };

  const schedule = async () => {
    const due = await store.nextDueIn(clock.now());
    arm(Math.max(10, Math.min(due ?? idlePollMs, idlePollMs)));
  };

  return {
    async start() {
      const released = await store.releaseAllLeases();
      if (released > 0) logger.info("resuming jobs left running by the previous process", { jobs: released });
      stopped = false;
      void fill();
    },
    wake() {
      if (!stopped) void fill();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled(allRunning());
    },
    async idle() {
      for (;;) {
        await Promise.allSettled(allRunning());
        const due = await store.nextDueIn(clock.now());
        if (running() === 0 && due === undefined) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, due ?? 50)));
      }
    },
  };
}
