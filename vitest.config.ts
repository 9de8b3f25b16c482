import { defineConfig } from "vitest/config";

/**
 * Files whose assertions or loads depend on having the machine to themselves: wall-clock bounds
 * (LINE's 2 s answer, outages armed on the wall clock, a reply within 5 s under a backlog, a
 * webhook answered within 1 s during a flood), relays killed and restarted in child processes,
 * and the benchmarks. They run one at a time, after the other files.
 */
const ALONE = [
  "test/integration/soak.test.ts",
  "test/integration/cluster.test.ts",
  "test/integration/crash-recovery.test.ts",
  "test/integration/webhook-crash.test.ts",
  "test/integration/outages.test.ts",
  "test/integration/runner-failures.test.ts",
  "test/relay/bench-webhook.test.ts",
  "test/relay/bench-cluster.test.ts",
  "test/security/slow-bodies.test.ts",
];

/**
 * Files that start no process and touch no shared state (pure functions, in-process emulators):
 * they run in reused workers, so their modules are loaded once per worker instead of once per
 * file, which was most of their time.
 */
const IN_SHARED_WORKERS = ["test/common/**/*.test.ts", "test/plugin/**/*.test.ts", "test/emulators/**/*.test.ts", "test/docs/**/*.test.ts", "test/scripts/**/*.test.ts"];

const shared = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  pool: "forks",
} as const;

export default defineConfig({
  test: {
    // One embedded PostgreSQL for the run; the files make their own databases in it.
    globalSetup: ["test/helpers/global-setup-postgres.ts"],
    projects: [
      // Two files at a time: most of their time is spent waiting (servers, chromium, timers).
      { test: { ...shared, name: "side-by-side", include: ["test/**/*.test.ts"], exclude: [...ALONE, ...IN_SHARED_WORKERS], maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: "shared-workers", include: IN_SHARED_WORKERS, isolate: false, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: "alone", include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
