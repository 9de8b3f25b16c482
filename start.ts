// `npm start`: the relay (relay/src/server.ts), or, when no LINE or kintone setting is present and
// NODE_ENV is not production, the sandbox (sandbox/), which composes the relay with the emulators.
// This choice lives here, outside relay/src, so production code never imports a stand-in.
// `npm start` runs this file compiled (dist/relay/start.mjs, see scripts/relay-bundle.mjs).
import { loadDotEnv, wantsSandbox } from "./relay/src/settings.js";
import type * as Sandbox from "./sandbox/run-sandbox.js";

loadDotEnv();
if (wantsSandbox(process.env)) {
  // The sandbox (emulators, playground, demo data) runs from its TypeScript sources, never from
  // the bundle: compiled, this file registers tsx's loader first; `node --import tsx` has it already.
  const fromSources = import.meta.url.endsWith(".ts");
  if (!fromSources) (await import("tsx/esm/api")).register();
  const sandbox = new URL(fromSources ? "./sandbox/run-sandbox.ts" : "../../sandbox/run-sandbox.ts", import.meta.url).href;
  const { runSandbox } = (await import(sandbox)) as typeof Sandbox;
  await runSandbox(process.env);
} else {
  await import("./relay/src/server.js");
}
