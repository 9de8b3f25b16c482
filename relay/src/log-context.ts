import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What every log line written inside one piece of work carries: the request id (`reqId`) of the
 * HTTP request that started it, and the job it runs as. The HTTP middleware sets it for a
 * request, the job runner for a job (with the id stored on the job), and the logger reads it, so
 * no function in between passes it along. The store reads `reqId` when it inserts a job: work a
 * request or a job creates carries the same id to the worker.
 */
export interface LogContext {
  reqId?: string;
  job?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `run` with exactly `context` (not merged with an outer one: a job never inherits another's id). */
export function runWithLogContext<T>(context: LogContext, run: () => T): T {
  return storage.run(context, run);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** The request id the current work belongs to, if any: stored with each job it creates. */
export function currentRequestId(): string | null {
  return storage.getStore()?.reqId ?? null;
}
