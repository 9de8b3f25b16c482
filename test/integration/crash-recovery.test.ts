import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { startProcessStack } from "../helpers/relay-process.js";
import { waitFor } from "../helpers/start-stack.js";

let stack: Awaited<ReturnType<typeof startProcessStack>> | undefined;
afterEach(async () => {
  await stack?.close();
});

it("a relay killed with SIGKILL after answering 202 pushes exactly once after a restart on the same data dir", async () => {
  stack = await startProcessStack({ RELAY_CONFIRM_TIMEOUT_MS: "60000" });
  const { line, kintone, appId } = stack;
  const { id: recordId } = kintone.addRecord(appId, { order_no: "A-1", line_user_id: "U" + "1".repeat(32) });
  const first = await stack.start();
  const response = await fetch(`${first.url}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.relaySecret}` },
    body: JSON.stringify({
      appId,
      recordId,
      action: "Approve",
      status: "Submitted",
      nextStatus: "Approved",
      rules: JSON.stringify(demoRuleSet()),
    }),
  });
  expect(response.status).toBe(202);
  // The worker is polling kintone for the new status: kill it mid-job, before any push.
  await waitFor(() => kintone.requests.some((r) => r.path === "/k/v1/record.json"), 10_000, "the worker to read the record");
  first.child.kill("SIGKILL");
  expect(await first.exited).toBe("SIGKILL");
  expect(line.requests).toHaveLength(0);

  kintone.runAction(appId, recordId, "Approve");
  const second = await stack.start();
  await waitFor(() => line.delivered.length === 1, 15_000, "the push after restart");
  // Give a duplicate every chance to appear.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(line.delivered).toHaveLength(1);
  expect(line.requests.filter((r) => r.path === "/v2/bot/message/push")).toHaveLength(1);
  // The job the killed process had committed is the one the new process finished.
  expect(first.output()).not.toContain("notification dispatched");
  expect(second.output()).toContain("notification dispatched");
});
