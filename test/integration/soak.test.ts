import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { z } from "zod";

// The short version of `npm run soak` (the same entry, ~15 s of load): the relay killed with
// SIGKILL and restarted, LINE and kintone failing and going down, while notifications and taps
// flow. Nothing may be delivered twice or lost. The drain bound is generous: on a loaded machine
// backoff after an outage can take minutes; only the outcome is asserted, never how fast.
const result = z.object({
  notificationsSent: z.number(),
  pushesDelivered: z.number(),
  duplicated: z.number(),
  lost: z.number(),
  lostPushes: z.array(z.string()),
  lostAcknowledgements: z.array(z.string()),
  duplicatedPushes: z.array(z.string()),
  acknowledgementsExpected: z.number(),
  acknowledgementsWritten: z.number(),
  commentsDuplicated: z.number(),
  duplicatedComments: z.array(z.string()),
  drained: z.boolean(),
  kills: z.number(),
  injectedErrors: z.object({ line: z.number(), kintone: z.number(), kintoneAnswersLost: z.number() }),
  problems: z.array(z.string()),
});

function runSoakCommand(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "-s", "soak"], { cwd: join(import.meta.dirname, "../.."), env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

it("npm run soak, short: kills and faults happened, nothing duplicated, nothing lost", { timeout: 420_000 }, async () => {
  const run = await runSoakCommand({ SOAK_SECONDS: "15", SOAK_NOTIFICATIONS_PER_SECOND: "1", SOAK_KILLS: "2", SOAK_DRAIN_SECONDS: "300" });
  const line = /^soak result: (.*)$/m.exec(run.stdout)?.[1];
  expect(line, `no result line\n${run.stdout}\n${run.stderr}`).toBeDefined();
  const report = result.parse(JSON.parse(line ?? "{}"));
  const story = `\n${run.stdout}`;

  // The faults really happened.
  expect(report.kills, story).toBeGreaterThanOrEqual(2);
  expect(report.injectedErrors.line + report.injectedErrors.kintone + report.injectedErrors.kintoneAnswersLost, story).toBeGreaterThan(0);
  // Work really flowed through them.
  expect(report.notificationsSent, story).toBeGreaterThan(0);
  expect(report.pushesDelivered, story).toBeGreaterThan(0);
  expect(report.acknowledgementsExpected, story).toBeGreaterThan(0);

  expect(report.duplicatedPushes, story).toEqual([]);
  expect(report.duplicated).toBe(0);
  expect(report.lostPushes, story).toEqual([]);
  expect(report.lostAcknowledgements, story).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.duplicatedComments, story).toEqual([]);
  expect(report.acknowledgementsWritten).toBe(report.acknowledgementsExpected);
  expect(report.problems, story).toEqual([]);
  expect(report.drained, story).toBe(true);
  expect(run.code, story).toBe(0);
});
