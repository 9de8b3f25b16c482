/**
 * Scripted faults: the next N requests of a kind fail, wait, or lose their connection. A plain
 * failure or drop happens before the request is looked at, so nothing is delivered; the
 * "after accepting" variants let the request take effect and then lose or replace the answer.
 */

export type FaultKind = "push" | "multicast" | "reply" | "token" | "profile" | "summary" | "linkToken" | "any";
/** What a request is, for matching faults; "validate", "quota" and "other" match only "any". */
export type RequestKind = Exclude<FaultKind, "any"> | "validate" | "quota" | "other";

export interface FailOptions {
  status: number;
  count?: number;
  /**
   * An outage: every matching request fails for this many ms (wall clock) from now, however many
   * come; `count` is then ignored.
   */
  forMs?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FaultOutcome =
  | { type: "fail"; status: number; body: unknown; headers: Record<string, string>; afterAccepting: boolean }
  | { type: "drop"; afterAccepting: boolean };

interface Entry<T> {
  kind: FaultKind;
  remaining: number;
  value: T;
  /** Wall-clock end of an outage; while set, `remaining` is not counted down. */
  until?: number;
}

export function defaultFailureBody(status: number): { message: string } {
  if (status === 429) return { message: "The API rate limit has been exceeded. Try again later." };
  if (status === 503) return { message: "Service unavailable" };
  if (status >= 500) return { message: "Internal server error" };
  return { message: `Injected ${status}` };
}

function checkCount(count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new Error(`fault count must be a positive integer, got ${count}`);
  return count;
}

export class FaultPlan {
  private readonly outcomes: Array<Entry<FaultOutcome>> = [];
  private readonly delays: Array<Entry<number>> = [];

  fail(kind: FaultKind, options: FailOptions, afterAccepting = false): void {
    if (options.forMs !== undefined && !(options.forMs > 0)) throw new Error(`forMs must be > 0, got ${options.forMs}`);
    this.outcomes.push({
      kind,
      remaining: checkCount(options.count ?? 1),
      ...(options.forMs !== undefined ? { until: Date.now() + options.forMs } : {}),
      value: {
        type: "fail",
        status: options.status,
        body: options.body ?? defaultFailureBody(options.status),
        headers: options.headers ?? {},
        afterAccepting,
      },
    });
  }

  drop(kind: FaultKind, count = 1, afterAccepting = false): void {
    this.outcomes.push({ kind, remaining: checkCount(count), value: { type: "drop", afterAccepting } });
  }

  delay(kind: FaultKind, ms: number, count = 1): void {
    if (!(ms >= 0)) throw new Error(`delay must be >= 0 ms, got ${ms}`);
    this.delays.push({ kind, remaining: checkCount(count), value: ms });
  }

  takeDelay(kind: RequestKind): number {
    return take(this.delays, kind) ?? 0;
  }

  takeOutcome(kind: RequestKind): FaultOutcome | undefined {
    return take(this.outcomes, kind);
  }

  clear(): void {
    this.outcomes.length = 0;
    this.delays.length = 0;
  }
}

function take<T>(entries: Array<Entry<T>>, kind: RequestKind): T | undefined {
  dropEndedOutages(entries);
  const index = entries.findIndex((entry) => entry.kind === kind || entry.kind === "any");
  if (index < 0) return undefined;
  const entry = entries[index]!;
  if (entry.until !== undefined) return entry.value;
  entry.remaining -= 1;
  if (entry.remaining === 0) entries.splice(index, 1);
  return entry.value;
}

/** Outages (`forMs`) whose time is up stop matching. */
function dropEndedOutages(list: Array<{ until?: number }>): void {
  const now = Date.now();
  for (let i = list.length - 1; i >= 0; i--) {
    const until = list[i]?.until;
    if (until !== undefined && until <= now) list.splice(i, 1);
  }
}
