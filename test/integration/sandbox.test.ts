/**
 * `npm start` as a newcomer runs it: start.ts in its own process, a clean environment, an empty
 * working directory. With no LINE or kintone settings it is a sandbox (first line says so and
 * where to open it; the whole loop works over HTTP); with real settings, or with
 * NODE_ENV=production, it never is.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS } from "../../emulators/demo-app.js";
import { createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";
import { ensurePluginBuilt } from "../browser/browser-harness.js";
import { startRelayProcess, type RelayProcess } from "../helpers/relay-process.js";
import { TEST_CHANNEL_ID, TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_RELAY_SECRET, waitFor } from "../helpers/start-stack.js";

const ROOT = join(import.meta.dirname, "../..");
const FIRST_LINE = /^Sandbox mode \(no LINE or kintone settings found\): open (http:\/\/localhost:(\d+))\/playground$/;

interface Started {
  child: ChildProcess;
  stdout: () => string;
  output: () => string;
  exited: Promise<number | string | null>;
}

const temps: string[] = [];
const children: ChildProcess[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** node --import <tsx loader> start.ts, as `npm start` runs it, with only `env`. */
function startServer(env: Record<string, string>, cwd: string): Started {
  const loader = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
  const child = spawn(process.execPath, ["--import", loader, join(ROOT, "start.ts")], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  return { child, stdout: () => stdout, output: () => output, exited };
}

async function stop(started: { child: ChildProcess; exited: Promise<number | string | null> }): Promise<number | string | null> {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGTERM");
  return started.exited;
}

/** Waits for the sandbox's "ready" line; returns its base URL from the first line. */
async function sandboxReady(started: Started): Promise<string> {
  await waitFor(() => /Sandbox ready/.test(started.stdout()) || started.child.exitCode !== null, 60_000, "the sandbox to be ready");
  if (started.child.exitCode !== null) throw new Error(`the sandbox exited:\n${started.output()}`);
  const match = FIRST_LINE.exec(started.stdout().split("\n")[0] ?? "");
  if (!match?.[1]) throw new Error(`unexpected first line:\n${started.stdout()}`);
  return match[1];
}

interface ChatEntry {
  from: "bot" | "user";
  kind?: string;
  message: { type: string; text?: string; contents?: unknown };
}

const chat = async (url: string) => ((await (await fetch(`${url}/playground/api/chat`)).json()) as { entries: ChatEntry[] }).entries;

/**
 * The loop the playground drives, over plain HTTP: the record page's action (status change, then
 * the plugin's proxy call), the push on the phone, a tap, the reply, the acknowledgement.
 */
async function runTheLoop(url: string): Promise<void> {
  const html = await (await fetch(`${url}/playground`)).text();
  const pluginId = /pluginId=([a-p]{32})/.exec(html)?.[1];
  expect(pluginId).toBeDefined();

  const status = await fetch(`${url}/k/v1/record/status.json`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ app: DEMO_APP_ID, id: 1, action: "Approve" }),
  });
  expect(status.status).toBe(200);
  // What the plugin sends through kintone's proxy: a reference only; the page emulator injects the
  // saved secret and rules exactly as kintone's server would.
  const proxied = await fetch(`${url}/__emu/proxy`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      appId: DEMO_APP_ID,
      // The record page is where kintone offers kintone.plugin.app.proxy.
      page: "desktop",
      pluginId,
      url: `${url}/v1/notifications`,
      method: "POST",
      headers: { "Content-Type": "application/json" },
      data: { appId: String(DEMO_APP_ID), recordId: "1", action: "Approve", status: "Submitted", nextStatus: "Approved" },
    }),
  });
  expect(((await proxied.json()) as { status: number }).status).toBe(202);

  const pushed = await waitFor(async () => (await chat(url)).find((e) => e.kind === "push"), 15_000, "the push on the phone");
  expect(pushed.message.type).toBe("flex");
  const text = JSON.stringify(pushed.message);
  expect(text).toContain("Order A-1001 approved");
  const data = /"type":"postback","label":"Got it","data":"([^"]+)"/.exec(text)?.[1];
  expect(data).toBeDefined();

  const tap = await fetch(`${url}/playground/api/tap`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ data, displayText: "Got it" }),
  });
  expect(((await tap.json()) as { status: number }).status).toBe(200);

  const reply = await waitFor(async () => (await chat(url)).find((e) => e.kind === "reply"), 15_000, "the reply on the phone");
  expect(reply.message).toEqual({ type: "text", text: "Thanks, we noted it." });
  const entries = await chat(url);
  expect(entries.map((e) => e.kind ?? e.from)).toEqual(["push", "user", "reply"]);

  const record = (await (await fetch(`${url}/k/v1/record.json?app=${DEMO_APP_ID}&id=1`)).json()) as {
    record: Record<string, { value: unknown }>;
  };
  expect(record.record.ack_status?.value).toBe("Acknowledged");
  expect(record.record.ack_by?.value).toBe("Sato Hanako");
  const comments = (await (await fetch(`${url}/k/v1/record/comments.json?app=${DEMO_APP_ID}&record=1`)).json()) as {
    comments: Array<{ text: string }>;
  };
  expect(comments.comments.map((c) => c.text.trim())).toEqual(["Acknowledged on LINE by Sato Hanako"]);
}

beforeAll(async () => {
  await ensurePluginBuilt();
}, 180_000);

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("npm start without LINE or kintone settings: the sandbox", () => {
  it("says so on its first line with the playground's URL, serves the playground, runs the whole loop, and leaves no data behind", async () => {
    const cwd = tempDir("sandbox-cwd-");
    const tmp = tempDir("sandbox-tmp-");
    const started = startServer({ PORT: "0", TMPDIR: tmp }, cwd);
    const url = await sandboxReady(started);

    const [first, ...rest] = started.stdout().split("\n");
    expect(first).toMatch(FIRST_LINE);
    expect(rest.join("\n")).not.toMatch(/Sandbox mode/);
    expect(started.output()).not.toMatch(/warning: LINE emulator/);

    const page = await fetch(`${url}/playground`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain('id="pg-kintone"');
    expect(html).toContain("/plugin/config?pluginId=");
    expect((await fetch(`${url}/playground/app.js`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/k/${DEMO_APP_ID}/show?record=1`)).status).toBe(200);
    // The relay is the real one: /v1 still wants the (generated) secret.
    expect((await fetch(`${url}/v1/ping`, { method: "POST" })).status).toBe(401);

    await runTheLoop(url);

    // Nothing in the working directory; the temporary data dir is gone after a clean stop.
    expect(readdirSync(tmp).some((name) => name.startsWith("kline-sandbox-"))).toBe(true);
    expect(await stop(started)).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(tmp).filter((name) => name.startsWith("kline-sandbox-"))).toEqual([]);
  }, 120_000);

  it("a status changed through kintone's REST API (no record page, no plugin) reaches the phone through kintone's webhook", async () => {
    const started = startServer({ PORT: "0" }, tempDir("sandbox-cwd-"));
    const url = await sandboxReady(started);
    // kintone's REST API (the page emulator forwards it to the kintone emulator with the app's API token).
    const act = async (action: string) => {
      const response = await fetch(`${url}/k/v1/record/status.json`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ app: DEMO_APP_ID, id: 2, action }),
      });
      expect(response.status).toBe(200);
    };
    // "Approve": the demo approval rule names its action, so only a record page serves it: no push.
    await act("Approve");
    // "Ship": the sandbox's "shipped" rule (any change into Shipped) is served by the webhook.
    await act("Ship");
    const pushed = await waitFor(async () => (await chat(url)).find((e) => e.kind === "push"), 15_000, "the push on the phone");
    const text = JSON.stringify(pushed.message);
    expect(text).toContain("Order A-1002 shipped");
    expect(text).toContain("Suzuki Foods");
    // Status line: the webhook says neither the action nor the status before.
    expect(text).toContain("Shipped");
    // One change, one message; the approval sent nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const pushes = (await chat(url)).filter((e) => e.kind === "push");
    expect(pushes).toHaveLength(1);
    expect(JSON.stringify(pushes)).not.toContain("approved");
    expect(await stop(started)).toBe(0);
  }, 120_000);

  it("honours PORT", async () => {
    const probe = await listen(createKintoneEmulator().app);
    const port = probe.port;
    await probe.close();
    const started = startServer({ PORT: String(port) }, tempDir("sandbox-cwd-"));
    const url = await sandboxReady(started);
    expect(url).toBe(`http://localhost:${port}`);
    expect((await fetch(`${url}/playground`)).status).toBe(200);
    await stop(started);
  }, 60_000);

  it("needs no LINE OpenAPI specs (a user's machine has none): no warning, the loop still works", async () => {
    // The emulator validates against the contract committed in the repo; LINE_OPENAPI_DIR means nothing to it.
    const started = startServer({ PORT: "0", LINE_OPENAPI_DIR: join(tempDir("no-specs-"), "missing") }, tempDir("sandbox-cwd-"));
    const url = await sandboxReady(started);
    expect(started.stdout().split("\n")[0]).toMatch(FIRST_LINE);
    expect(started.output()).not.toMatch(/warning|OpenAPI/i);
    await runTheLoop(url);
    await stop(started);
  }, 120_000);
});

describe("npm start with real settings", () => {
  let lineServer: RunningServer;
  let kintoneServer: RunningServer;
  let relay: RelayProcess | undefined;
  let settings: Record<string, string>;

  beforeAll(async () => {
    const line = createLineEmulator({
      channels: [{ channelId: TEST_CHANNEL_ID, channelSecret: TEST_CHANNEL_SECRET }],
      longLivedTokens: [TEST_LONG_LIVED_TOKEN],
    });
    const kintone = createKintoneEmulator();
    kintone.addApp({
      id: DEMO_APP_ID,
      name: "Orders",
      fields: DEMO_FIELDS,
      process: DEMO_PROCESS,
      apiTokens: [{ token: DEMO_API_TOKEN, permissions: { view: true, edit: true, add: true } }],
    });
    lineServer = await listen(line.app);
    kintoneServer = await listen(kintone.app);
    settings = {
      RELAY_SECRET: TEST_RELAY_SECRET,
      LINE_CHANNEL_SECRET: TEST_CHANNEL_SECRET,
      LINE_CHANNEL_ACCESS_TOKEN: TEST_LONG_LIVED_TOKEN,
      LINE_API_BASE_URL: lineServer.url,
      KINTONE_BASE_URL: kintoneServer.url,
      KINTONE_API_TOKEN: DEMO_API_TOKEN,
    };
  });

  afterEach(async () => {
    if (relay) {
      relay.child.kill("SIGTERM");
      await relay.exited;
      relay = undefined;
    }
  });

  afterAll(async () => {
    await lineServer?.close();
    await kintoneServer?.close();
  });

  const expectNoSandbox = async (process: RelayProcess) => {
    const output = process.output();
    expect(output.split("\n")[0]).toMatch(/^relay \S+ listening on http:\/\/localhost:\d+ /);
    expect(output).not.toMatch(/sandbox/i);
    expect((await fetch(`${process.url}/playground`)).status).toBe(404);
    expect((await fetch(`${process.url}/k/${DEMO_APP_ID}/show?record=1`)).status).toBe(404);
    expect((await fetch(`${process.url}/healthz`)).status).toBe(200);
  };

  it("from the environment: the normal relay, no emulator, no playground", async () => {
    const cwd = tempDir("relay-cwd-");
    relay = await startRelayProcess({ ...settings, RELAY_DATA_DIR: join(cwd, "data") }, cwd);
    await expectNoSandbox(relay);
  }, 60_000);

  it("from a .env file in the working directory: the same", async () => {
    const cwd = tempDir("relay-cwd-");
    writeFileSync(join(cwd, ".env"), Object.entries({ ...settings, RELAY_DATA_DIR: join(cwd, "data") }).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
    relay = await startRelayProcess({}, cwd);
    await expectNoSandbox(relay);
  }, 60_000);

  it("with only some LINE or kintone settings: no sandbox either, the missing ones are named", async () => {
    const started = startServer({ PORT: "0", KINTONE_BASE_URL: kintoneServer.url }, tempDir("relay-cwd-"));
    const code = await started.exited;
    expect(code).toBe(1);
    expect(started.output()).not.toMatch(/sandbox/i);
    expect(started.output()).toContain("LINE_CHANNEL_SECRET: missing");
  }, 60_000);

  it("with NODE_ENV=production and no settings at all: no sandbox, every missing setting named, exit 1", async () => {
    const started = startServer({ PORT: "0", NODE_ENV: "production" }, tempDir("relay-cwd-"));
    expect(await started.exited).toBe(1);
    expect(started.output()).not.toMatch(/sandbox/i);
    for (const name of ["RELAY_SECRET", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "KINTONE_BASE_URL", "KINTONE_API_TOKEN"]) {
      expect(started.output()).toMatch(new RegExp(`^  ${name}: missing`, "m"));
    }
  }, 60_000);
});
