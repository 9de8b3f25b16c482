import type { Clock } from "../clock.js";
import { runWithLogContext } from "../log-context.js";
import type { Logger } from "../logger.js";
import { LeaseLostError, type DeadLetterRow, type Job, type JobKind, type RelayStore } from "../store/relay-store.js";
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
 * never wait behind notifications (kintone reads) or deliveries (pushes). Eight of them: a
 * webhook event mostly waits for LINE's answer to its reply, and the more end together, the more
 * share one grouped commit (a backlog of simple events drained at ~1,450 events/s and ~670 µs of
 * CPU each with 8, ~800 events/s and ~900 µs with 4; 16 gained nothing more).
 */
export const DEFAULT_LANES: readonly JobLane[] = [
  { name: "webhook-events", kinds: ["webhook-event"], slots: 8 },
  { name: "notifications", kinds: ["notification"], slots: 2 },
  { name: "deliveries", kinds: ["delivery"], slots: 4 },
];

export const DEFAULT_GIVE_UP_AFTER_MS = 24 * 60 * 60_000;
export const DEFAULT_LEASE_MS = 30_000;

export interface JobRunnerOptions {
  store: RelayStore;
  handlers: Partial<Record<JobKind, JobHandler>>;
  clock: Clock;
  logger: Logger;
  lanes?: readonly JobLane[];
  /** When set, every lane gets this many slots. */
  concurrency?: number;
  /**
   * How long a claim holds a job (default 30 s): a live runner renews its leases well before they
   * lapse; when its process dies, another instance takes the job over once the lease lapses.
   */
  leaseMs?: number;
  /** Upper bound on how long the runner sleeps without looking at the store. */
  idlePollMs?: number;
  /** A job still failing this long after its first failure becomes a dead letter (RELAY_GIVE_UP_AFTER_MS). */
  giveUpAfterMs?: number;
  /** First delay of the backoff for thrown errors (doubles per attempt). */
  retryBaseMs?: number;
  /** Told how long each run of a job took (relay_job_duration_seconds). */
  onJobRan?: (kind: JobKind, seconds: number) => void;
  /**
   * While it says `high()`, each lane runs at most one job (ingest-pressure.ts): answering LINE's
   * webhook comes first. Absent: the lanes always use all their slots.
   */
  yieldTo?: { high(): boolean };
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
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
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
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  /** The jobs this runner holds, with when their leases lapse as this runner last set them. */
  const held = new Map<string, { job: Job; leaseUntil: number }>();
  let stopped = true;
  let filling = false;
  let refill = false;

  const giveUp = async (job: Job, error: string, now: number): Promise<DeadLetterRow> => {
    const letter = await store.deadLetterJob(job, error, now);
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
    await store.retryJob(job, now + retryInMs, error, { failed: true, now });
  };

  /**
   * Keeps the leases this runner holds: each one with less than half its time left is extended.
   * Runs on a timer and before each claim, so a claim (this instance's or, when the clock jumped,
   * its own) never takes over a job that is still running here.
   */
  const renewLeases = async (now: number) => {
    const due = [...held.values()].filter((entry) => entry.leaseUntil - now < leaseMs / 2);
    if (due.length === 0) return;
    const until = now + leaseMs;
    for (const entry of due) entry.leaseUntil = until;
    const lost = await store.extendLeases(
      due.map((entry) => entry.job),
      until,
    );
    for (const job of lost) {
      logger.warn("job lease lost: another worker took the job over; this run's result will not be stored", { job: job.id });
    }
  };

  // Every line logged while the job runs carries its request id (stored with the job) and its id.
  const runJob = (job: Job) => {
    held.set(job.id, { job, leaseUntil: clock.now() + leaseMs });
    return runWithLogContext({ job: job.id, ...(job.requestId ? { reqId: job.requestId } : {}) }, () => timed(job)).finally(() => held.delete(job.id));
  };

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
      if ("waitMs" in result) await store.retryJob(job, clock.now() + result.waitMs, result.note, { failed: false, now: clock.now() });
      else if ("retryInMs" in result) await failed(job, result.note, result.retryInMs);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        // Fencing refused this run's result: the job is another worker's now, and its effects are
        // keyed (retry keys, acknowledgement claims), so the other run finishes it once.
        logger.warn("job taken over by another worker; this run's result was not stored", { job: job.id, kind: job.kind });
        return;
      }
      const delay = backoffMs(job.attempts, options.retryBaseMs);
      logger.error("job failed unexpectedly; will retry", { job: job.id, kind: job.kind, attempts: job.attempts + 1, retryInMs: delay, error });
      await failed(job, `unexpected: ${(error as Error).message}`, delay).catch((storeError: unknown) => {
        if (storeError instanceof LeaseLostError) logger.warn("job taken over by another worker; not rescheduled here", { job: job.id, kind: job.kind });
        else logger.error("could not reschedule job", { job: job.id, error: storeError });
      });
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
          while (!stopped) {
            const slots = options.yieldTo?.high() ? 1 : lane.slots;
            if (lane.running.size >= slots) break;
            const free = slots - lane.running.size;
            const now = clock.now();
            await renewLeases(now);
            const jobs = await store.claimJobs(now, leaseMs, lane.kinds, free);
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
      const released = await store.releaseOrphanedLeases();
      if (released > 0) logger.info("resuming jobs left running by the previous process", { jobs: released });
      stopped = false;
      // Work enqueued by another instance sharing the store wakes this one at once.
      unsubscribe = store.onJobsAvailable?.(() => {
        if (!stopped) void fill();
      });
      heartbeat = setInterval(() => {
        renewLeases(clock.now()).catch((error: unknown) => logger.error("could not renew job leases", { error }));
      }, Math.max(50, Math.floor(leaseMs / 3)));
      heartbeat.unref();
      void fill();
    },
    wake() {
      if (!stopped) void fill();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      unsubscribe?.();
      await Promise.allSettled(allRunning());
      if (heartbeat) clearInterval(heartbeat);
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
