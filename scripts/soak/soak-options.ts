import { z } from "zod";

/** What a soak run does, from the environment (`npm run soak`; the short version in npm test sets smaller values). */
export interface SoakOptions {
  /** Seconds of load (notifications, taps, kills, faults). */
  seconds: number;
  /** Notifications started per second of load. */
  notificationsPerSecond: number;
  /** How many times the relay is killed with SIGKILL during the load (spread at random over it). */
  kills: number;
  /** Upper bound on waiting for the work to drain once the faults stop. */
  drainSeconds: number;
  /** Seed of the run's choices (recipients, taps, faults, kill moments). */
  seed: number;
}

const positive = (fallback: number) => z.coerce.number().positive().default(fallback);

const schema = z.object({
  SOAK_SECONDS: positive(60),
  SOAK_NOTIFICATIONS_PER_SECOND: positive(2),
  SOAK_KILLS: z.coerce.number().int().nonnegative().optional(),
  SOAK_DRAIN_SECONDS: positive(300),
  SOAK_SEED: z.coerce.number().int().nonnegative().optional(),
});

export function readSoakOptions(env: NodeJS.ProcessEnv): SoakOptions {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`soak settings: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  const { SOAK_SECONDS, SOAK_NOTIFICATIONS_PER_SECOND, SOAK_KILLS, SOAK_DRAIN_SECONDS, SOAK_SEED } = parsed.data;
  return {
    seconds: SOAK_SECONDS,
    notificationsPerSecond: SOAK_NOTIFICATIONS_PER_SECOND,
    // About one kill every 7 s, and at least two.
    kills: SOAK_KILLS ?? Math.max(2, Math.round(SOAK_SECONDS / 7)),
    drainSeconds: SOAK_DRAIN_SECONDS,
    seed: SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31),
  };
}
