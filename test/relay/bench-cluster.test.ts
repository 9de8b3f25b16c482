import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
/**
 * The command `npm run bench:cluster` runs, started without npm in between: when the timeout below
 * ends the run, the signal reaches the benchmark itself, which then stops its relays and its
 * PostgreSQL server (npm would leave them running).
 */
const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts["bench:cluster"] ?? "";

// Keeps `npm run bench:cluster` working (it is documented) with tiny numbers: the SQLite relay and
// two relays on one PostgreSQL, each measured end to end. The figures are for people to read: this
// test asserts that each configuration was measured and that every recipient was pushed exactly
// once, never how fast anything was.
it("npm run bench:cluster measures SQLite and two relays on one PostgreSQL, each with its figures, every push exactly once", { timeout: 90_000 }, () => {
  const [node, ...args] = script.split(" ");
  expect(node).toBe("node");
  const run = spawnSync(process.execPath, [...args, "--quick", "--duration", "1", "--notifications", "20", "--configs", "sqlite,pg2"], {
    cwd: ROOT,
    env: process.env,
    encoding: "utf8",
    timeout: 85_000,
  });
  expect(run.status, run.stderr + run.stdout).toBe(0);
  expect(run.stdout).toMatch(/^cluster benchmark, .*: \d+ cores, load average \(1\/5\/15 min\) at start [\d.]+ [\d.]+ [\d.]+/m);
  expect(run.stdout).toContain("not scale-out");

  // Each configuration's own line: every recipient reached, the ingest answered, no duplicate.
  // (The count includes the warm-up's notifications: two LINE users on each record, one multicast each.)
  const sqlite = /^SQLite, 1 relay: started in \d+ ms; 20 notifications \(40 recipients\) pushed in [\d.]+ s: .*ingest [1-9]\d* answered .* 0 errors; exactly once: yes \((\d+) recipients in (\d+) pushes\)/m.exec(run.stdout);
  expect(sqlite, run.stdout).not.toBeNull();
  const [recipients, pushes] = [Number(sqlite?.[1]), Number(sqlite?.[2])];
  expect(recipients).toBeGreaterThanOrEqual(40);
  expect(recipients).toBe(2 * pushes);
  // Two instances: the requests really were spread over both (each answered some).
  expect(run.stdout).toMatch(/^PostgreSQL, 2 relays: 2 instances started together in \d+ ms; .*ingest [1-9]\d* answered .* 0 errors \(per instance [1-9]\d*\/[1-9]\d*\); exactly once: yes/m);

  const number = String.raw`\s+\|\s+\d+(\.\d+)?`;
  expect(run.stdout).toMatch(/^configuration\s+\| ingest req\/s \| p50 ms \| p99 ms \| notifications\/s \| recipients\/s \| pushes exactly once$/m);
  for (const label of ["SQLite, 1 relay", "PostgreSQL, 2 relays"]) {
    expect(run.stdout).toMatch(new RegExp(`^${label}${number}${number}${number}${number}${number}\\s+\\| yes$`, "m"));
  }
  expect(run.stdout).not.toMatch(/PostgreSQL, [13] relays? /);
});
