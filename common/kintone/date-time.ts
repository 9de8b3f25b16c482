/**
 * Date, date-time and time parsing for kintone values and rule condition values, and the
 * time-zone arithmetic both need. Pure and Intl-only, so it runs in the plugin and the relay.
 *
 * kintone sends DATE as "2026-11-21", TIME as "14:00" and DATETIME / CREATED_TIME / UPDATED_TIME
 * as UTC instants "2026-11-21T05:00:00Z". Parsing is done by hand (not Date.parse) so that a
 * string without an offset is never read in the host's local zone: it is read in the zone the
 * caller names, the same on both sides.
 */

export interface CivilDate {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
}

export interface CivilDateTime extends CivilDate {
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;
const TIME_RE = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** "YYYY-MM-DD" -> calendar date, or undefined when malformed or impossible (2026-02-30). */
export function parseDate(text: string): CivilDate | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

/** Days since 1970-01-01: a number that orders calendar dates. */
export function dayNumber(date: CivilDate): number {
  return Math.round(Date.UTC(date.year, date.month - 1, date.day) / DAY_MS);
}

/** "HH:MM" or "HH:MM:SS" -> seconds since midnight, or undefined. */
export function parseTime(text: string): number | undefined {
  const m = TIME_RE.exec(text.trim());
  if (!m) return undefined;
  const [h, min, s] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 0 : Number(m[3])];
  if (h > 23 || min > 59 || s > 59) return undefined;
  return h * 3600 + min * 60 + s;
}

/**
 * An ISO 8601 date-time -> epoch milliseconds. With "Z" or an offset it is that instant; without,
 * it is a wall-clock time in `timeZone`. Undefined when malformed.
 */
export function parseDateTime(text: string, timeZone: string): number | undefined {
  const m = DATE_TIME_RE.exec(text.trim());
  if (!m) return undefined;
  const date = parseDate(`${m[1]}-${m[2]}-${m[3]}`);
  if (!date) return undefined;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millisecond = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const civil: CivilDateTime = { ...date, hour, minute, second, millisecond };
  const offset = m[8];
  if (offset === undefined) return zonedToInstant(civil, timeZone);
  const asUtc = civilToUtcMs(civil);
  if (offset === "Z" || offset === "z") return asUtc;
  const sign = offset.startsWith("-") ? -1 : 1;
  const digits = offset.slice(1).replace(":", "");
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  if (Number(digits.slice(2, 4)) > 59) return undefined;
  return asUtc - sign * offsetMinutes * 60_000;
}

function civilToUtcMs(c: CivilDateTime): number {
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second, c.millisecond);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: a caller's configuration error, not bad data.
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone (or "UTC") this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant in a time zone. */
export function instantToZoned(epochMs: number, timeZone: string): CivilDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24, // some engines print midnight as 24 even with h23
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: ((epochMs % 1000) + 1000) % 1000,
  };
}

function offsetMs(epochMs: number, timeZone: string): number {
  const z = instantToZoned(epochMs, timeZone);
  return civilToUtcMs(z) - epochMs;
}

/** The instant a wall-clock time in `timeZone` names (in a DST gap: the later reading). */
export function zonedToInstant(civil: CivilDateTime, timeZone: string): number {
  const guess = civilToUtcMs(civil);
  const first = offsetMs(guess, timeZone);
  const candidate = guess - first;
  const second = offsetMs(candidate, timeZone);
  return second === first ? candidate : guess - second;
}

/** [start, end) of a calendar day in a time zone, as epoch milliseconds. */
export function dayRangeInZone(date: CivilDate, timeZone: string): { start: number; end: number } {
  const next = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
  const midnight = { hour: 0, minute: 0, second: 0, millisecond: 0 };
  return {
    start: zonedToInstant({ ...date, ...midnight }, timeZone),
    end: zonedToInstant(
      { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), ...midnight },
      timeZone,
    ),
  };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** An instant as "YYYY-MM-DD HH:mm" in a time zone. */
export function formatInstant(epochMs: number, timeZone: string): string {
  const z = instantToZoned(epochMs, timeZone);
  return `${pad(z.year, 4)}-${pad(z.month)}-${pad(z.day)} ${pad(z.hour)}:${pad(z.minute)}`;
}

/**
 * The zone a rule set's dates are judged and shown in when it names none. The browser filter
 * cannot know the relay's RELAY_TIMEZONE, and the relay cannot know the zone of whichever kintone
 * user ran the action, so both fall back to this one fixed zone (kintone's home market, and
 * RELAY_TIMEZONE's default). The settings page writes a zone into every rule set it saves.
 */
export const DEFAULT_RULE_SET_TIME_ZONE = "Asia/Tokyo";

/** The one zone for a rule set's messages, write-backs, comments and date conditions, on both sides. */
export function ruleSetTimeZone(ruleSet: { timeZone?: string | undefined } | undefined): string {
  return ruleSet?.timeZone ?? DEFAULT_RULE_SET_TIME_ZONE;
}
