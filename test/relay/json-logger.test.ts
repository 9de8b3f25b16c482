import { describe, expect, it } from "vitest";
import { runWithLogContext } from "../../relay/src/log-context.js";
import { createLogger } from "../../relay/src/logger.js";

function collect(options: Parameters<typeof createLogger>[0] = {}) {
  const raw: string[] = [];
  const logger = createLogger({ ...options, write: (line) => raw.push(line) });
  return { logger, raw };
}

describe("the relay's JSON logger (pino)", () => {
  it("writes one JSON object per line with level, time, message, the fields and the work's reqId", () => {
    const { logger, raw } = collect({ level: "info", now: () => Date.parse("2026-05-01T00:00:00Z") });
    logger.debug("not at info");
    logger.info("delivery sent", { delivery: "d_1", recipients: 2 });
    runWithLogContext({ reqId: "req-1", job: "j_1" }, () => logger.warn("in a job"));
    logger.error("failed", { error: new TypeError("boom") });
    expect(raw).toHaveLength(3);
    for (const line of raw) expect(line).not.toContain("\n");
    const [sent, warned, failed] = raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(sent).toMatchObject({ level: "info", time: "2026-05-01T00:00:00.000Z", message: "delivery sent", delivery: "d_1", recipients: 2 });
    expect(sent?.reqId).toBeUndefined();
    expect(warned).toMatchObject({ level: "warn", message: "in a job", reqId: "req-1", job: "j_1" });
    expect(failed).toMatchObject({ level: "error", error: { name: "TypeError", message: "boom" } });
  });

  it("a field named message does not shadow the line's own: it is kept under detail", () => {
    const { logger, raw } = collect();
    logger.warn("LINE refused the push", { message: "Invalid reply token", status: 400 });
    expect(raw).toHaveLength(1);
    expect(raw[0]!.match(/"message":/g)).toHaveLength(1);
    expect(JSON.parse(raw[0]!)).toMatchObject({ message: "LINE refused the push", detail: "Invalid reply token", status: 400 });
  });

  it("never writes a secret, in the message, a field, a nested error or JSON-escaped", () => {
    const secrets = ["relay-master-secret-0123456789", "line\"token\\with/quotes", "kintone+token/abc=="];
    const { logger, raw } = collect({ level: "debug", secrets });
    logger.addSecret("added-later-secret-xyz");
    logger.info(`token relay-master-secret-0123456789 in a message`);
    logger.warn("fields", {
      header: "Bearer line\"token\\with/quotes",
      nested: { list: ["kintone+token/abc=="], error: new Error("kintone said: added-later-secret-xyz") },
    });
    const all = raw.join("\n");
    expect(all).toContain("[redacted]");
    for (const secret of [...secrets, "added-later-secret-xyz"]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    for (const line of raw) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
