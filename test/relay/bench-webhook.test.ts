import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

// Keeps `npm run bench:webhook` working (it is documented); the figures themselves are for
// people to read: this test asserts what the bench reports, never how fast anything was.
it("npm run bench:webhook runs end to end and reports both targets, the ratio and durability", { timeout: 180_000 }, () => {
  const run = spawnSync("npm", ["run", "-s", "bench:webhook"], {
    cwd: join(import.meta.dirname, "../.."),
    env: { ...process.env, BENCH_SECONDS: "1", BENCH_ROUNDS: "1" },
    encoding: "utf8",
    timeout: 170_000,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/\(a\) relay, durable inbox/);
  expect(run.stdout).toMatch(/\(b\) bare Hono, signature only/);
  expect(run.stdout).toMatch(/ratio a\/b .*: \d+\.\d+/);
  expect(run.stdout).toContain("every answered event survived");
});
