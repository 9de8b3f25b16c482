import type { KintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import type { LineEmulator } from "../../emulators/line/line-emulator.js";
import type { Random } from "./random.js";

const RECORD = "/k/v1/record.json";
const COMMENT = "/k/v1/record/comment.json";
const PUSH_KINDS = ["push", "multicast"] as const;

export interface FaultCounts {
  /** Faults armed, by name. */
  armed: Record<string, number>;
  /** kintone requests committed and then left unanswered (the relay cannot know they worked). */
  droppedAfterCommit: number;
  /** Of those, the ones where the relay was killed right after kintone committed. */
  killsAfterCommit: number;
  outages: number;
}

/**
 * Arms one random fault at a time in the LINE and kintone emulators: 429 with Retry-After, 5xx,
 * lost connections (before and after the request took effect), answers later than the relay's
 * timeout, outages of several seconds, and kills of the relay right after kintone committed a write.
 */
export function createFaultSchedule(deps: { line: LineEmulator; kintone: KintoneEmulator; random: Random; killRelay: () => boolean }) {
  const { line, kintone, random } = deps;
  const counts: FaultCounts = { armed: {}, droppedAfterCommit: 0, killsAfterCommit: 0, outages: 0 };
  const count = (name: string) => {
    counts.armed[name] = (counts.armed[name] ?? 0) + 1;
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const faults: Array<() => void> = [
    () => {
      line.failNext(random.pick(PUSH_KINDS), { status: 429, count: random.int(1, 3), headers: { "Retry-After": "1" } });
      count("LINE push 429");
    },
    () => {
      line.failNext(random.pick(PUSH_KINDS), { status: random.pick([500, 502, 503]), count: random.int(1, 3) });
      count("LINE push 5xx");
    },
    () => {
      // Delivered, but the relay hears 500: its retry must carry the same X-Line-Retry-Key (409).
      line.failNextAfterAccepting(random.pick(PUSH_KINDS), 500);
      count("LINE push 5xx after accepting");
    },
    () => {
      line.dropNext(random.pick(PUSH_KINDS), 1, { afterAccepting: random.chance(0.5) });
      count("LINE push connection lost");
    },
    () => {
      // Longer than the relay's 10 s push timeout; LINE still takes the request when it gets to it.
      line.delayNext(random.pick(PUSH_KINDS), 11_000, 1);
      count("LINE push timeout");
    },
    () => {
      line.failNext(random.pick(["reply", "profile"] as const), { status: random.pick([429, 500, 503]), count: random.int(1, 2) });
      count("LINE reply/profile error");
    },
    () => {
      line.failNext("any", { status: 503, forMs: random.int(2_000, 6_000) });
      counts.outages += 1;
      count("LINE outage");
    },
    () => {
      kintone.failNext({ path: random.pick([RECORD, COMMENT]) }, { status: random.pick([429, 500, 503]), count: random.int(1, 3) });
      count("kintone 429/5xx");
    },
    () => {
      kintone.delayNext({}, { ms: random.int(500, 3_000), count: random.int(1, 4) });
      count("kintone slow");
    },
    () => {
      kintone.dropAfterCommitNext(
        { method: random.pick(["POST", "PUT"]), path: random.pick([COMMENT, RECORD]) },
        { onCommitted: () => void (counts.droppedAfterCommit += 1) },
      );
      count("kintone answer lost after commit");
    },
    () => {
      // The relay dies between kintone's commit and hearing the answer.
      kintone.dropAfterCommitNext(
        { method: "POST", path: COMMENT },
        {
          onCommitted: () => {
            counts.droppedAfterCommit += 1;
            if (!stopped && deps.killRelay()) counts.killsAfterCommit += 1;
          },
        },
      );
      count("kintone commit, then relay killed");
    },
    () => {
      kintone.failNext({}, { status: 503, forMs: random.int(2_000, 6_000) });
      counts.outages += 1;
      count("kintone outage");
    },
  ];

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      random.pick(faults)();
      schedule();
    }, random.int(600, 2_000));
  };

  return {
    counts,
    start: schedule,
    /** No new faults; outages end at their time (a few seconds at most). */
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
