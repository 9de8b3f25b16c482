import { KintoneApiError } from "./errors.js";

/** Which requests a fault applies to. Omitted parts match anything. */
export interface RequestMatch {
  /** Compared case-insensitively with the effective method (GET for a POST with X-HTTP-Method-Override: GET). */
  method?: string;
  /** An exact path ("/k/v1/record.json") or a pattern. */
  path?: string | RegExp;
}

export interface FailureSpec {
  status: number;
  /** Default "EMULATOR_INJECTED": not a kintone code, so nobody mistakes it for one. */
  code?: string;
  message?: string;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** An outage: every matching request fails for this many ms (wall clock) from now; `count` is then ignored. */
  forMs?: number;
  /** Extra response headers (Retry-After, ...). */
  headers?: Record<string, string>;
}

export interface DelaySpec {
  ms: number;
  count?: number;
}

export interface DropAfterCommitSpec {
  count?: number;
  /**
   * Runs after kintone committed the request and before the connection is dropped: a test kills
   * the relay here to stand for a crash between kintone's commit and the relay hearing the answer.
   */
  onCommitted?: () => void | Promise<void>;
}

interface Armed<T> {
  match: RequestMatch;
  spec: T;
  remaining: number;
  /** Wall-clock end of an outage; while set, `remaining` is not counted down. */
  until?: number;
}

/** Faults armed by a test, consumed by the requests they match, in the order they were armed. */
export class FaultInjector {
  readonly #failures: Array<Armed<FailureSpec>> = [];
  readonly #delays: Array<Armed<DelaySpec>> = [];
  readonly #stale = new Map<string, Record<string, unknown>>();
  readonly #dropsAfterCommit: Array<Armed<DropAfterCommitSpec>> = [];

  failNext(match: RequestMatch, spec: FailureSpec): void {
    if (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599) {
      throw new Error(`failNext needs an error status (4xx / 5xx), got ${spec.status}`);
    }
    if (spec.forMs !== undefined && !(spec.forMs > 0)) throw new Error(`forMs must be > 0, got ${spec.forMs}`);
    this.#failures.push({
      match,
      spec,
      remaining: spec.count ?? 1,
      ...(spec.forMs !== undefined ? { until: Date.now() + spec.forMs } : {}),
    });
  }

  delayNext(match: RequestMatch, spec: DelaySpec): void {
    this.#delays.push({ match, spec, remaining: spec.count ?? 1 });
  }

  /**
   * The next `count` matching requests are carried out (kintone commits them) but their connection
   * is closed without an answer: the caller cannot know whether it worked, as after a network cut
   * or a crash of the caller itself.
   */
  dropAfterCommitNext(match: RequestMatch, spec: DropAfterCommitSpec = {}): void {
    this.#dropsAfterCommit.push({ match, spec, remaining: spec.count ?? 1 });
  }

  /** Only for requests that succeeded: a refused request committed nothing. */
  takeDropAfterCommit(method: string, path: string): DropAfterCommitSpec | undefined {
    return take(this.#dropsAfterCommit, method, path)?.spec;
  }

  /**
   * The next record-changing request for this record (update record, update status) first sees
   * someone else's edit: the revision moves on, so a revision read before fails with GAIA_CO02.
   * `values` (raw field values) are what that other edit wrote.
   */
  staleNextUpdate(appId: number, recordId: number | string, values: Record<string, unknown> = {}): void {
    this.#stale.set(`${appId}:${recordId}`, values);
  }

  takeFailure(method: string, path: string): KintoneApiError | undefined {
    const armed = take(this.#failures, method, path);
    if (!armed) return undefined;
    const { status, code, message, headers } = armed.spec;
    return new KintoneApiError(
      status,
      code ?? "EMULATOR_INJECTED",
      message ?? `Fault injected by the kintone emulator (HTTP ${status}).`,
      undefined,
      headers,
    );
  }

  takeDelay(method: string, path: string): number {
    return take(this.#delays, method, path)?.spec.ms ?? 0;
  }

  takeStale(appId: number, recordId: number | string): Record<string, unknown> | undefined {
    const key = `${appId}:${recordId}`;
    const values = this.#stale.get(key);
    this.#stale.delete(key);
    return values;
  }
}

function matches(match: RequestMatch, method: string, path: string): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  return typeof match.path === "string" ? match.path === path : match.path.test(path);
}

function take<T>(list: Array<Armed<T>>, method: string, path: string): Armed<T> | undefined {
  dropEndedOutages(list);
  const index = list.findIndex((a) => matches(a.match, method, path));
  const armed = list[index];
  if (!armed) return undefined;
  if (armed.until !== undefined) return armed;
  armed.remaining -= 1;
  if (armed.remaining <= 0) list.splice(index, 1);
  return armed;
}

/** Outages (`forMs`) whose time is up stop matching. */
function dropEndedOutages(list: Array<{ until?: number }>): void {
  const now = Date.now();
  for (let i = list.length - 1; i >= 0; i--) {
    const until = list[i]?.until;
    if (until !== undefined && until <= now) list.splice(i, 1);
  }
}
