/**
 * Exponential backoff with jitter: base · 2^attempts, capped (5 minutes by default), then a random
 * 50-100 % of it, so jobs that failed together (an outage) do not all come back at once.
 */
export const backoffMs = (attempts: number, baseMs = 1000, capMs = 300_000, random: () => number = Math.random) => {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempts, 20));
  return Math.round(ceiling * (0.5 + random() / 2));
};

/** The other side's Retry-After when it sent one, else the backoff. */
export const retryDelayMs = (retryAfterMs: number | undefined, attempts: number, baseMs?: number) =>
  retryAfterMs ?? backoffMs(attempts, baseMs);
