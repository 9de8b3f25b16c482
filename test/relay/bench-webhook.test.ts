import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

// Keeps `npm run bench:webhook` working (it is documented) in its tiny mode (BENCH_TINY=1: seconds,
// not minutes); the figures themselves are for people to read: this test asserts what the bench
// reports, never how fast anything was.
it("npm run bench:webhook runs end to end: production relay beside the verify-only receiver, each target with its numbers, durability", { timeout: 180_000 }, () => {
  const run = spawnSync("npm", ["run", "-s", "bench:webhook"], {
    cwd: join(import.meta.dirname, "../.."),
    env: { ...process.env, BENCH_TINY: "1" },
    encoding: "utf8",
    timeout: 170_000,
  });
  expect(run.status, run.stderr + run.stdout).toBe(0);
  expect(run.stdout).toMatch(/cold start \(spawn -> first 200 on \/healthz.*\): tsx \d+ ms, compiled \d+ ms/);
  expect(run.stdout).toMatch(/10 connections: production relay \d+, verify-only receiver \d+, ingest-only relay \(workers OFF, not production\) \d+/);
  expect(run.stdout).toMatch(/50 connections: production relay \d+, verify-only receiver \d+/);
  expect(run.stdout).toMatch(/paced 1000 req\/s: production relay p50 [\d.]+ ms, p99 [\d.]+ ms/);
  expect(run.stdout).toMatch(/Then it processed (\d+) events in [\d.]+ s: \d+ events\/s/);
  // The drained events were really processed by the workers: follows answered, taps refused.
  expect(run.stdout).toMatch(/outcomes: .*user following \d+/);
  for (const target of ["ingest >= 0.4 x verify-only at 50 connections", "p99 <= 10 ms at 1000 req/s", "drain >= 1000 simple events/s", "/healthz and webhook <= 100 ms with", "cold start <= 400 ms"]) {
    expect(run.stdout).toMatch(new RegExp(`(met   |MISSED) ${target.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
  }
  expect(run.stdout).toContain("every answered event survived");
  expect(run.stdout).toMatch(/met {4}every answered event survives kill -9: (\d+)\/\1/);
});
