import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEMO_API_TOKEN } from "../../emulators/demo-app.js";

export const ROOT = join(import.meta.dirname, "../..");
const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

/** How each benchmarked process is started: argv after `node`. */
export const COMMANDS = {
  /** Production: the compiled relay, as `npm start` runs it when settings are present. */
  relay: [join(ROOT, "dist/relay/server.mjs")],
  /** The same entry from its TypeScript sources (what `npm start` ran before it was compiled). */
  relayTsx: ["--import", TSX_LOADER, join(ROOT, "relay/src/server.ts")],
  verifyOnly: ["--import", TSX_LOADER, join(ROOT, "scripts/bench/webhook-target.ts"), "verify-only"],
  ingestOnly: ["--import", TSX_LOADER, join(ROOT, "scripts/bench/webhook-target.ts"), "ingest-only"],
  emulators: ["--import", TSX_LOADER, join(ROOT, "scripts/bench/bench-emulators.ts")],
} as const;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface Started {
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
  /** ms from spawn to the first 200 on GET /healthz (or on POST /line/webhook's 401 for targets without /healthz). */
  readyMs: number;
}

/**
 * Spawns `node <args>` with `env` (stdout and stderr to `logFile`, as a service manager would take
 * them) on a free port, and waits for the first answer: GET /healthz 200 when the target has it,
 * else any answer from /line/webhook.
 */
export async function startProcess(args: readonly string[], env: Record<string, string>, logFile: string, options: { extraArgs?: string[]; timeoutMs?: number } = {}): Promise<Started> {
  const port = await freePort();
  const fd = openSync(logFile, "a");
  const began = performance.now();
  const child = spawn(process.execPath, [...(options.extraArgs ?? []), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port) },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = began + (options.timeoutMs ?? 30_000);
  while (performance.now() < deadline && !gone) {
    const status = await fetch(`${url}/healthz`).then((r) => r.status, () => 0);
    if (status === 200 || status === 404) return { url, child, exited, readyMs: performance.now() - began };
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  child.kill("SIGKILL");
  throw new Error(`${args.join(" ")} did not answer within ${options.timeoutMs ?? 30_000} ms:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
}

/** The emulators' process: prints one JSON line with its URLs. */
export function startEmulators(env: Record<string, string>): Promise<{ line: string; kintone: string; control: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...COMMANDS.emulators], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve({ ...(JSON.parse(line) as { line: string; kintone: string; control: string }), child });
    });
    child.once("exit", (code) => reject(new Error(`emulators exited (${code})`)));
  });
}

/**
 * The settings of a benchmarked relay, as an operator would set them: its secrets, the emulators
 * as LINE and kintone (the demo app's API token), its data dir, and PostgreSQL when a URL is given.
 */
export function benchRelayEnv(options: {
  relaySecret: string;
  channelSecret: string;
  lineToken: string;
  emulators: { line: string; kintone: string };
  dataDir: string;
  databaseUrl?: string;
}): Record<string, string> {
  return {
    RELAY_SECRET: options.relaySecret,
    LINE_CHANNEL_SECRET: options.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: options.lineToken,
    LINE_API_BASE_URL: options.emulators.line,
    KINTONE_BASE_URL: options.emulators.kintone,
    KINTONE_API_TOKEN: DEMO_API_TOKEN,
    RELAY_DATA_DIR: options.dataDir,
    RELAY_WELCOME_TEXT: "友だち追加ありがとうございます。Thanks for adding us!",
    ...(options.databaseUrl ? { RELAY_DATABASE_URL: options.databaseUrl } : {}),
  };
}
