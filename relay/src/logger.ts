/**
 * JSON-lines logger. Secrets handed to `createLogger` are replaced by "[redacted]" wherever they
 * appear in a message or a field, so a token pasted into an error text cannot leak into the logs.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  secrets?: readonly string[];
  write?: (line: string) => void;
  now?: () => number;
}

export function createLogger(options: LoggerOptions = {}): Logger & { addSecret(secret: string): void } {
  const min = ORDER[options.level ?? "info"];
  const secrets = new Set((options.secrets ?? []).filter((secret) => secret.length >= 6));
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const now = options.now ?? Date.now;

  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join("[redacted]");
    return out;
  };

  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const line = JSON.stringify({ time: new Date(now()).toISOString(), level, message, ...fields }, (_key, value) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
    write(redact(line));
  };

  return {
    debug: (message, fields) => log("debug", message, fields),
    info: (message, fields) => log("info", message, fields),
    warn: (message, fields) => log("warn", message, fields),
    error: (message, fields) => log("error", message, fields),
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
