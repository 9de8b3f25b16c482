/**
 * The relay's HTTP guards as production composes them (composeRelay, a real socket): the bearer
 * secret with rotation (Hono's bearerAuth) and the body limits (Hono's bodyLimit), each refusal
 * in the relay's `{error: {code, message}}` shape, and nothing stored for a refused request.
 */
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen, type RunningServer } from "../../emulators/listen.js";
import { composeRelay, type ComposedRelay } from "../../relay/src/compose-relay.js";
import { SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { createMemoryLogger } from "../../relay/src/logger.js";
import type { RelaySettings } from "../../relay/src/settings.js";

const NEW_SECRET = "new-relay-secret-0123456789abcdef";
const OLD_SECRET = "old-relay-secret-0123456789abcdef";
const OTHER_SECRET = "someone-elses-secret-0123456789ab";

let dataDir: string;
let relay: ComposedRelay;
let server: RunningServer;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "relay-http-"));
  const settings: RelaySettings = {
    port: 0,
    relaySecrets: [NEW_SECRET, OLD_SECRET],
    lineChannelSecret: "0123456789abcdef0123456789abcdef",
    lineAccessToken: { kind: "long-lived", token: "never-used-token" },
    // Nothing here calls LINE or kintone (the worker is not started): addresses that lead nowhere.
    lineApiBaseUrl: "http://localhost:9",
    kintoneBaseUrl: "http://localhost:9",
    kintoneApiTokens: ["neverUsed"],
    dataDir,
    timeZone: "Asia/Tokyo",
    signingKeys: [],
    confirmTimeoutMs: 30_000,
    replyDeadlineMs: 50_000,
    welcomeText: "",
    logLevel: "error",
  };
  relay = await composeRelay(settings, { logger: createMemoryLogger() });
  server = await listen(relay.app);
});

afterAll(async () => {
  await server?.close();
  await relay?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const storedNotifications = () => {
  if (!(relay.store instanceof SqliteStore)) throw new Error("this relay runs on SQLite");
  return relay.store.db.prepare("SELECT COUNT(*) AS n FROM notifications").get();
};

const notification = {
  appId: "1",
  recordId: "1",
  action: "Approve",
  status: "Submitted",
  nextStatus: "Approved",
  rules: JSON.stringify({ version: 1, rules: [] }),
};

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

describe("RELAY_SECRET rotation", () => {
  it("accepts the current and the previous secret", async () => {
    for (const secret of [NEW_SECRET, OLD_SECRET]) {
      const response = await fetch(`${server.url}/v1/groups`, { headers: { authorization: `Bearer ${secret}` } });
      expect(response.status).toBe(200);
    }
  });

  it("refuses any other secret, a missing header and a malformed one with 401 JSON, and stores nothing", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ authorization: `Bearer ${OTHER_SECRET}` }, /wrong bearer secret/],
      [{ authorization: `Bearer ${NEW_SECRET}x` }, /wrong bearer secret/],
      [{}, /missing Authorization header/],
      [{ authorization: `Basic ${NEW_SECRET}` }, /not Bearer/],
      [{ authorization: "Bearer with spaces!" }, /not Bearer/],
    ];
    for (const [headers, message] of cases) {
      const response = await post("/v1/notifications", JSON.stringify(notification), headers);
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toContain("application/json");
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await response.json()) as unknown;
      expect(body).toEqual({ error: { code: "unauthorized", message: expect.stringMatching(message) } });
    }
    expect(storedNotifications()).toEqual({ n: 0 });
  });
});

describe("body limits (Hono's bodyLimit)", () => {
  it("refuses a declared Content-Length above 64 KB on /v1 with 413 JSON, and stores nothing", async () => {
    const response = await post("/v1/notifications", JSON.stringify({ ...notification, padding: "x".repeat(70 * 1024) }), {
      authorization: `Bearer ${NEW_SECRET}`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: { code: "payload_too_large", message: "the request body is larger than 64 KB" } });
    expect(storedNotifications()).toEqual({ n: 0 });
  });

  /** Writes an endless chunked body (respecting backpressure) until the relay answers. */
  const sendEndless = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string; sent: number; connection: string | undefined }>((resolve, reject) => {
      const chunk = "x".repeat(16 * 1024);
      let sent = 0;
      let answered = false;
      const req = request(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
        answered = true;
        let body = "";
        res.on("data", (data: Buffer) => (body += data.toString()));
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body, sent, connection: res.headers.connection });
        });
      });
      req.on("error", (error) => (answered ? undefined : reject(error)));
      // No Content-Length: Node sends it chunked. A relay that buffered whole bodies would never
      // answer before ENDLESS_CAP.
      const pump = () => {
        while (!answered && sent < ENDLESS_CAP) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once("drain", pump);
            return;
          }
        }
        if (!answered) req.end();
      };
      pump();
    });
  const ENDLESS_CAP = 64 * 1024 * 1024;

  it("cuts an endless chunked body at the limit: 413 arrives while the client is still sending", async () => {
    const result = await sendEndless("/v1/notifications", { authorization: `Bearer ${NEW_SECRET}` });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({ error: { code: "payload_too_large", message: "the request body is larger than 64 KB" } });
    expect(result.sent).toBeLessThan(ENDLESS_CAP);
    expect(storedNotifications()).toEqual({ n: 0 });
  });

  it("the webhook (read from Node's stream, not through Hono) cuts an endless chunked body at 1 MB the same way, and closes the connection", async () => {
    const result = await sendEndless("/line/webhook", { "x-line-signature": "not-the-signature" });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({ error: { code: "payload_too_large", message: "the request body is larger than 1024 KB" } });
    expect(result.sent).toBeLessThan(ENDLESS_CAP);
    expect(result.connection).toBe("close");
  });

  it("the webhook takes up to 1 MB: a signed-size body under it reaches the signature check, one over it is 413", async () => {
    const under = await post("/line/webhook", JSON.stringify({ destination: "U0", events: [], padding: "x".repeat(900 * 1024) }), {
      "x-line-signature": "not-the-signature",
    });
    expect(under.status).toBe(401);
    expect(((await under.json()) as { error: { code: string } }).error.code).toBe("bad_signature");
    const over = await post("/line/webhook", "x".repeat(1024 * 1024 + 1), { "x-line-signature": "not-the-signature" });
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ error: { code: "payload_too_large", message: "the request body is larger than 1024 KB" } });
  });
});
