import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Job, JobKind, RelayStore } from "../store/relay-store.js";

/**
 * A handler either finishes its job (committing its result and the job's end in one store call)
 * and returns `done`, or asks to run again later.
 */
export type JobResult = { done: true } | { retryInMs: number; note: string };
export type JobHandler = (job: Job) => Promise<JobResult>;

export interface JobRunnerOptions {
  store: RelayStore;
  handlers: Partial<Record<JobKind, JobHandler>>;
  clock: Clock;
  logger: Logger;
  concurrency?: number;
  leaseMs?: number;
  /** Upper bound on how long the runner sleeps without looking at the store. */
  idlePollMs?: number;
}

export interface JobRunner {
  start(): Promise<void>;
  /** Something was enqueued: look now instead of at the next poll. */
  wake(): void;
  stop(): Promise<void>;
  /** Resolves when no job is running or due (tests and graceful shutdown). */
  idle(): Promise<void>;
}

/** Unexpected handler errors back off 1 s, 2 s, 4 s ... up to 5 minutes. */
export const backoffMs = (attempts: number, baseMs = 1000, capMs = 300_000) =>
  Math.min(capMs, baseMs * 2 ** Math.min(attempts, 20));

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { store, handlers, clock, logger } = options;
  const concurrency = options.concurrency ?? 4;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const idlePollMs = options.idlePollMs ?? 1000;
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let filling = false;
  let refill = false;

  const runJob = async (job: Job) => {
    const handler = handlers[job.kind];
    try {
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
      const result = await handler(job);
      if ("retryInMs" in result) await store.retryJob(job.id, clock.now() + result.retryInMs, result.note);
    } catch (error) {
      const delay = backoffMs(job.attempts);
      logger.error("job failed; will retry", { job: job.id, kind: job.kind, attempts: job.attempts + 1, retryInMs: delay, error });
      await store.retryJob(job.id, clock.now() + delay, (error as Error).message).catch((storeError: unknown) =>
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
        while (!stopped && running.size < concurrency) {
          const job = await store.claimJob(clock.now(), leaseMs);
          if (!job) break;
          const task = runJob(job).finally(() => {
            running.delete(task);
            void fill();
          });
          running.add(task);
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
      await Promise.allSettled([...running]);
    },
    async idle() {
      for (;;) {
        await Promise.allSettled([...running]);
        const due = await store.nextDueIn(clock.now());
        if (running.size === 0 && due === undefined) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, due ?? 50)));
      }
    },
  };
}
