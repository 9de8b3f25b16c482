import { afterEach, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { approvalRequest, startStack, waitFor, type Stack } from "../helpers/start-stack.js";

/**
 * LINE answers 429 (rate limit, monthly limit) and may name a Retry-After. A huge value, by
 * mistake or from anything between the relay and LINE, must not park a delivery for years: the
 * wait is capped at one hour, and the cap is logged with the value LINE sent.
 */
const USER = "U" + "a".repeat(32);
const HOUR_MS = 60 * 60_000;

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

async function pushFailingOnceWith(retryAfter: string) {
  stack = await startStack();
  stack.line.failNext("push", { status: 429, headers: { "retry-after": retryAfter } });
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "R-1", line_user_id: USER });
  const response = await stack.notify(approvalRequest(recordId, demoRuleSet()));
  expect(response.status).toBe(202);
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  await waitFor(() => stack.line.requests.some((r) => r.path === "/v2/bot/message/push" && r.status === 429), 10_000, "the refused push");
  const job = await waitFor(
    () =>
      stack.store.db.prepare(`SELECT run_at, attempts, state FROM jobs WHERE kind = 'delivery' AND attempts = 1 AND state = 'pending'`).get() as
        | { run_at: number; attempts: number; state: string }
        | undefined,
    10_000,
    "the delivery rescheduled",
  );
  return { job, at: Date.now() };
}

describe("Retry-After from LINE is capped at one hour", () => {
  it("Retry-After: 99999999 (three years) schedules the next attempt at most an hour later, and says so at warn", async () => {
    const { job, at } = await pushFailingOnceWith("99999999");
    expect(job.run_at - at).toBeLessThanOrEqual(HOUR_MS);
    expect(job.run_at - at).toBeGreaterThan(HOUR_MS - 60_000);
    expect(stack.logger.lines).toContainEqual(
      expect.objectContaining({ level: "warn", message: expect.stringContaining("Retry-After"), retryAfter: "99999999", cappedMs: HOUR_MS }),
    );
    expect(stack.line.delivered).toHaveLength(0);
  });

  it("a Retry-After within the cap is honoured as LINE sent it", async () => {
    const { job, at } = await pushFailingOnceWith("120");
    expect(job.run_at - at).toBeLessThanOrEqual(120_000);
    expect(job.run_at - at).toBeGreaterThan(100_000);
    expect(stack.logger.lines.filter((line) => line.level === "warn" && String(line.message).includes("Retry-After"))).toHaveLength(0);
  });
});
