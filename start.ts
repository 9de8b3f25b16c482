// `npm start`: the relay (relay/src/server.ts), or, when no LINE or kintone setting is present and
// NODE_ENV is not production, the sandbox (sandbox/), which composes the relay with the emulators.
// This choice lives here, outside relay/src, so production code never imports a stand-in.
import { loadDotEnv, wantsSandbox } from "./relay/src/settings.js";

loadDotEnv();
if (wantsSandbox(process.env)) {
  const { runSandbox } = await import("./sandbox/run-sandbox.js");
  await runSandbox(process.env);
} else {
  await import("./relay/src/server.js");
}
