import { pino, type DestinationStream } from "pino";
import { currentLogContext } from "./log-context.js";

/**
 * JSON-lines logger (pino): one line per event, `{"level","time","pid","hostname","message",...}`,
 * plus `reqId` and `job` of the work it is written in (log-context.ts). Secrets handed to
 * `createLogger` are replaced by "[redacted]" wherever they appear in the finished line, a
 * message or any field, so a token pasted into an error text cannot leak into the logs (pino's
 * own `redact` works by field path, which cannot catch a secret inside a message).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  secrets?: readonly string[];
  write?: (line: string) => void;
  now?: () => number;
}

const REDACTED = "[redacted]";

/** Errors as `{name, message}` wherever they sit in the fields (pino would print `{}` for most). */
function plainErrors(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (depth > 3 || value === null || typeof value !== "object" || Array.isArray(value)) return value;
  let changed: Record<string, unknown> | undefined;
  for (const [key, inner] of Object.entries(value)) {
    const plain = plainErrors(inner, depth + 1);
    if (plain !== inner) (changed ??= { ...(value as Record<string, unknown>) })[key] = plain;
  }
  return changed ?? value;
}

/**
 * `message` is the line's own text (pino's messageKey): a field of the same name would give the
 * line two "message" keys, and JSON parsers keep only the last. Such a field goes under `detail`.
 */
function withoutMessageKey(fields: Record<string, unknown>): Record<string, unknown> {
  if (!("message" in fields)) return fields;
  const { message, ...rest } = fields;
  return { ...rest, [rest.detail === undefined ? "detail" : "fieldMessage"]: message };
}

export function createLogger(options: LoggerOptions = {}): Logger & { addSecret(secret: string): void } {
  const secrets = new Set((options.secrets ?? []).filter((secret) => secret.length >= 6));
  const now = options.now ?? Date.now;
  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
      // JSON escapes some characters ("/", "+" stay; quotes and backslashes do not): match the escaped form too.
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  };
  const write = options.write;
  const destination: DestinationStream | undefined = write ? { write: (line: string) => write(line.replace(/\n$/, "")) } : undefined;

  const base = pino(
    {
      level: options.level ?? "info",
      messageKey: "message",
      timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => plainErrors(withoutMessageKey(fields)) as Record<string, unknown>,
      },
      mixin: () => ({ ...currentLogContext() }),
      hooks: { streamWrite: redact },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );

  return {
    debug: (message, fields) => base.debug(fields ?? {}, message),
    info: (message, fields) => base.info(fields ?? {}, message),
    warn: (message, fields) => base.warn(fields ?? {}, message),
    error: (message, fields) => base.error(fields ?? {}, message),
    addSecret: (secret) => {
      if (secret.length >= 6) secrets.add(secret);
    },
  };
}

/** For tests: collects parsed log lines. */
export function createMemoryLogger(): Logger & { lines: Array<{ level: LogLevel; message: string } & LogFields> } {
  const lines: Array<{ level: LogLevel; message: string } & LogFields> = [];
  const logger = createLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line) as { level: LogLevel; message: string } & LogFields),
  });
  return Object.assign(logger, { lines });
}
