import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_API_TOKEN } from "../../emulators/demo-app.js";
import { openSqliteStore, StoreOpenError } from "../../relay/src/store/sqlite-store.js";
import { TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_RELAY_SECRET } from "../helpers/start-stack.js";

/**
 * A data dir the relay cannot write must stop start-up with one line that says what (the
 * setting), where (the path) and why, not a stack trace. The data dir used here lies under a
 * regular file (`<file>/data`): no one can create it, root included (file permissions would not
 * stop a root test run).
 */
const ROOT = join(import.meta.dirname, "../..");
let scratch: string;
afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function unwritableDataDir() {
  scratch = mkdtempSync(join(tmpdir(), "relay-datadir-"));
  const file = join(scratch, "not-a-folder");
  writeFileSync(file, "a regular file\n");
  return join(file, "data");
}

/** Runs `relay/src/server.ts` as `npm start` does, with production settings, until it exits. */
function runRelay(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const loader = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
  const child = spawn(process.execPath, ["--import", loader, join(ROOT, "relay/src/server.ts")], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "test",
      PORT: "0",
      RELAY_SECRET: TEST_RELAY_SECRET,
      LINE_CHANNEL_SECRET: TEST_CHANNEL_SECRET,
      LINE_CHANNEL_ACCESS_TOKEN: TEST_LONG_LIVED_TOKEN,
      LINE_API_BASE_URL: "http://localhost:9",
      KINTONE_BASE_URL: "http://localhost:9",
      KINTONE_API_TOKEN: DEMO_API_TOKEN,
      RELAY_DATA_DIR: dataDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the relay did not exit within 20 s; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("a data dir the relay cannot write", () => {
  it("openSqliteStore throws a StoreOpenError naming RELAY_DATA_DIR, the path and the reason", () => {
    const dataDir = unwritableDataDir();
    let thrown: unknown;
    try {
      openSqliteStore(dataDir);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreOpenError);
    const message = (thrown as Error).message;
    expect(message).toContain("RELAY_DATA_DIR");
    expect(message).toContain(dataDir);
    expect(message).toMatch(/not a folder/);
    expect(message).not.toContain("\n");
  });

  it("npm start prints exactly one line on stderr (what, where, why) and exits with 1", async () => {
    const dataDir = unwritableDataDir();
    const { code, stdout, stderr } = await runRelay(dataDir);
    expect(code).toBe(1);
    const lines = stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain("RELAY_DATA_DIR");
    expect(lines[0]).toContain(dataDir);
    expect(lines[0]).toMatch(/not a folder/);
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    expect(stdout).not.toContain("listening");
  });
});
