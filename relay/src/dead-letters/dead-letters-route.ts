import { Hono } from "hono";
import type { Clock } from "../clock.js";
import { HttpError } from "../http/http-error.js";
import { requireMaster } from "../http/principal.js";
import type { Logger } from "../logger.js";
import type { DeadLetterRow, RelayStore } from "../store/relay-store.js";

/** What GET /v1/dead-letters lists for each: enough to find the work and decide to re-drive it. */
export const describeDeadLetter = (row: DeadLetterRow) => ({
  id: row.id,
  kind: row.kind,
  appId: row.appId,
  recordId: row.recordId,
  error: row.error,
  attempts: row.attempts,
  firstFailedAt: new Date(row.firstFailedAt).toISOString(),
});

export interface DeadLetterDeps {
  store: RelayStore;
  clock: Clock;
  logger: Logger;
  onRetried: () => void;
}

/** Runs dead letter `id` again (store.retryDeadLetter) and answers 202, or the HTTP error that says why not. */
export async function retryDeadLetterOrThrow(deps: DeadLetterDeps, id: string): Promise<{ id: string; jobId: string }> {
  const result = await deps.store.retryDeadLetter(id, deps.clock.now());
  if (!result.ok) {
    if (result.reason === "not_found") throw new HttpError(404, "not_found", `no dead letter ${id}`);
    if (result.reason === "already_retried") throw new HttpError(409, "already_retried", `dead letter ${id} was already retried`);
    throw new HttpError(409, "conflict", `an identical notification is pending again: retrying ${id} would notify twice`);
  }
  deps.logger.info("dead letter retried", { deadLetter: id, job: result.jobId });
  deps.onRetried();
  return { id, jobId: result.jobId };
}

/**
 * Work the relay gave up on (RELAY_GIVE_UP_AFTER_MS), for the operator (the master secret only):
 * `GET /v1/dead-letters` lists what is not yet retried, oldest first; `POST /v1/dead-letters/{id}/retry`
 * runs one again exactly as before (a delivery: the same body and X-Line-Retry-Key) -> 202.
 * One app's share, for its key: app-dead-letters-route.ts.
 */
export function deadLettersRoute(deps: DeadLetterDeps) {
  return new Hono()
    .get("/", async (c) => {
      requireMaster(c);
      return c.json((await deps.store.listDeadLetters()).map(describeDeadLetter));
    })
    .post("/:id/retry", async (c) => {
      requireMaster(c);
      return c.json(await retryDeadLetterOrThrow(deps, c.req.param("id")), 202);
    });
}
