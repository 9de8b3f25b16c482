// Thin entry (`npm start`): read .env, then run the relay, or the sandbox when no LINE or
// kintone setting is present at all (relay/src/sandbox).
import { wantsSandbox } from "./settings.js";

try {
  process.loadEnvFile(".env");
} catch {
  // no .env: the environment alone is used
}

if (wantsSandbox(process.env)) {
  const { runSandbox } = await import("../../sandbox/run-sandbox.js");
  await runSandbox(process.env);
} else {
  const { startRelay } = await import("./start-relay.js");
  await startRelay(process.env);
}
