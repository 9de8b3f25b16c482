// `npm start`: the compiled start.ts (dist/relay/start.mjs), built first when it is missing or
// older than its sources, so a newcomer's `npm start` never runs a stale relay.
import { freshRelayBundle } from "./relay-bundle.mjs";

await import(await freshRelayBundle("start"));
