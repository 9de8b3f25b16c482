import { performance, type EventLoopUtilization } from "node:perf_hooks";

/**
 * Whether the webhook endpoint is under load right now, for the job runner to give it the event
 * loop first. The relay answers LINE on the same thread that runs the jobs; in a burst (a
 * campaign makes thousands of users tap at once) jobs that keep the loop busy delay every answer,
 * and LINE counts an answer slower than 2 s as failed. Everything answered is stored durably, so
 * the jobs can wait: under pressure each lane runs one job at a time, and the backlog drains at
 * full speed once the burst is over.
 *
 * Under pressure = webhook requests arrived within the last `windowMs` AND the event loop was
 * busy more than `busyAbove` of the time since the last look (its utilization, sampled at most
 * every `sampleMs`): a few taps a second never slow the jobs down, and a machine with time to
 * spare runs them at full speed even while requests come in.
 */
export interface IngestPressure {
  /** A webhook request arrived. */
  saw(): void;
  /** Should background work hold back now? */
  high(): boolean;
}

export function createIngestPressure(options: { windowMs?: number; sampleMs?: number; busyAbove?: number; now?: () => number } = {}): IngestPressure {
  const windowMs = options.windowMs ?? 250;
  const sampleMs = options.sampleMs ?? 20;
  const busyAbove = options.busyAbove ?? 0.5;
  const now = options.now ?? (() => performance.now());
  let lastRequestAt = -Infinity;
  let sampledAt = now();
  let sample: EventLoopUtilization = performance.eventLoopUtilization();
  let busy = false;
  return {
    saw() {
      lastRequestAt = now();
    },
    high() {
      const at = now();
      if (at - lastRequestAt > windowMs) return false;
      if (at - sampledAt >= sampleMs) {
        const next = performance.eventLoopUtilization();
        busy = performance.eventLoopUtilization(next, sample).utilization > busyAbove;
        sample = next;
        sampledAt = at;
      }
      return busy;
    },
  };
}
