import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
}

const ROOT = join(import.meta.dirname, "../..");

/** Starts the production entry `relay/src/server.ts` (what `npm start` runs when settings are present) in its own process, and waits until it listens. */
export function startRelayProcess(env: Record<string, string>, cwd: string, options: { startTimeoutMs?: number } = {}): Promise<RelayProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  // One process (node with tsx's loader), not the tsx CLI, which would put the relay in a child
  // process that a SIGKILL to the parent leaves running.
  const loader = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
  const child = spawn(process.execPath, ["--import", loader, join(ROOT, "relay/src/server.ts")], {
    cwd,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start within ${startTimeoutMs / 1000} s:\n${output}`)), startTimeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], child, output: () => output, exited });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited (${code}) before listening:\n${output}`));
    });
  });
}

/**
 * For tests that run the relay as its own process (to kill it): LINE and kintone emulators with
 * the demo app in this process, a data dir, the relay's environment pointing at them, and a
 * `start()` that launches a relay process and kills whatever is left at `close()`.
 */
export async function startProcessStack(extraEnv: Record<string, string> = {}) {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS } = await import("../../emulators/demo-app.js");
  const { createKintoneEmulator } = await import("../../emulators/kintone/kintone-emulator.js");
  const { createLineEmulator } = await import("../../emulators/line/line-emulator.js");
  const { listen } = await import("../../emulators/listen.js");
  const { TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_RELAY_SECRET } = await import("./start-stack.js");

  const line = createLineEmulator({ longLivedTokens: [TEST_LONG_LIVED_TOKEN] });
  const kintone = createKintoneEmulator();
  kintone.addApp({ id: DEMO_APP_ID, fields: DEMO_FIELDS, process: DEMO_PROCESS, apiTokens: [{ token: DEMO_API_TOKEN }] });
  const lineServer = await listen(line.app);
  const kintoneServer = await listen(kintone.app);
  const dataDir = mkdtempSync(join(tmpdir(), "relay-process-"));
  const env = {
    RELAY_SECRET: TEST_RELAY_SECRET,
    LINE_CHANNEL_SECRET: TEST_CHANNEL_SECRET,
    LINE_CHANNEL_ACCESS_TOKEN: TEST_LONG_LIVED_TOKEN,
    LINE_API_BASE_URL: lineServer.url,
    KINTONE_BASE_URL: kintoneServer.url,
    KINTONE_API_TOKEN: DEMO_API_TOKEN,
    RELAY_DATA_DIR: join(dataDir, "data"),
    ...extraEnv,
  };
  const started: RelayProcess[] = [];
  return {
    line,
    kintone,
    appId: DEMO_APP_ID,
    relaySecret: TEST_RELAY_SECRET,
    channelSecret: TEST_CHANNEL_SECRET,
    async start(): Promise<RelayProcess> {
      const relay = await startRelayProcess(env, dataDir);
      started.push(relay);
      return relay;
    },
    async close() {
      for (const relay of started) if (relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill("SIGKILL");
      await Promise.all(started.map((relay) => relay.exited));
      await lineServer.close();
      await kintoneServer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
