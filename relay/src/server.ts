// The relay's production entry: settings from the environment and .env, then the relay.
// (`npm start` goes through ../../start.ts, which runs the sandbox instead when nothing is set.)
import { loadDotEnv } from "./settings.js";
import { startRelay } from "./start-relay.js";

loadDotEnv();
await startRelay(process.env);
