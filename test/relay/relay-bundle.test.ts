import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript (it runs before any TypeScript loader), no declarations
import { relayBundleIsStale, RELAY_BUNDLE_DIR } from "../../scripts/relay-bundle.mjs";

const ROOT = join(import.meta.dirname, "../..");
let dataDir: string | undefined;
afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// `npm start` with production settings: the compiled relay (built now if stale) answers /healthz.
it("node scripts/start.mjs builds the compiled relay when stale and serves /healthz from it", { timeout: 60_000 }, async () => {
  dataDir = mkdtempSync(join(tmpdir(), "relay-bundle-"));
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      PORT: "0",
      RELAY_SECRET: "bundle-test-secret-0123456789",
      LINE_CHANNEL_SECRET: "0123456789abcdef0123456789abcdef",
      LINE_CHANNEL_ACCESS_TOKEN: "bundle-test-long-lived-token",
      KINTONE_BASE_URL: "http://localhost:9",
      KINTONE_API_TOKEN: "BundleTestToken0123",
      RELAY_DATA_DIR: join(dataDir, "data"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening on" within 50 s:\n${output}`)), 50_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`exited (${code}):\n${output}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
  } finally {
    child.kill("SIGKILL");
  }
  // What ran is the bundle: fresh, JavaScript, the relay inside, no TypeScript loader, no stand-in.
  expect(relayBundleIsStale()).toBe(false);
  const start = readFileSync(join(RELAY_BUNDLE_DIR, "start.mjs"), "utf8");
  expect(start).toContain('import("./server.mjs")');
  const files = ["server.mjs", ...readdirSync(join(RELAY_BUNDLE_DIR, "chunks")).map((name) => join("chunks", name))];
  const code = files.filter((name) => name.endsWith(".mjs")).map((name) => readFileSync(join(RELAY_BUNDLE_DIR, name), "utf8")).join("\n");
  expect(code.includes("listening on http://localhost:"), "the relay's start-up is in the bundle").toBe(true);
  expect(/createLineEmulator|createKintoneEmulator/.test(code), "no emulator in the bundle").toBe(false);
});
