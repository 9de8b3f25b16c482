import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS, demoRuleSet } from "../../emulators/demo-app.js";
import { createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";
import { startRelayProcess, type RelayProcess } from "../helpers/relay-process.js";
import { TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_RELAY_SECRET, waitFor } from "../helpers/start-stack.js";

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("a relay killed with SIGKILL after answering 202 pushes exactly once after a restart on the same data dir", async () => {
  const line = createLineEmulator({ longLivedTokens: [TEST_LONG_LIVED_TOKEN] });
  const kintone = createKintoneEmulator();
  kintone.addApp({ id: DEMO_APP_ID, fields: DEMO_FIELDS, process: DEMO_PROCESS, apiTokens: [{ token: DEMO_API_TOKEN }] });
  const servers: RunningServer[] = [await listen(line.app), await listen(kintone.app)];
  cleanups.push(() => Promise.all(servers.map((s) => s.close())));
  const [lineServer, kintoneServer] = servers as [RunningServer, RunningServer];
  const dataDir = mkdtempSync(join(tmpdir(), "relay-crash-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

  const env = {
    RELAY_SECRET: TEST_RELAY_SECRET,
    LINE_CHANNEL_SECRET: TEST_CHANNEL_SECRET,
    LINE_CHANNEL_ACCESS_TOKEN: TEST_LONG_LIVED_TOKEN,
    LINE_API_BASE_URL: lineServer.url,
    KINTONE_BASE_URL: kintoneServer.url,
    KINTONE_API_TOKEN: DEMO_API_TOKEN,
    RELAY_DATA_DIR: join(dataDir, "data"),
    RELAY_CONFIRM_TIMEOUT_MS: "60000",
  };
  const track = (relay: RelayProcess) => {
    cleanups.push(() => {
      if (relay.child.exitCode === null) relay.child.kill("SIGKILL");
    });
    return relay;
  };

  const { id: recordId } = kintone.addRecord(DEMO_APP_ID, { order_no: "A-1", line_user_id: "U" + "1".repeat(32) });
  const first = track(await startRelayProcess(env, dataDir));
  const response = await fetch(`${first.url}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TEST_RELAY_SECRET}` },
    body: JSON.stringify({
      appId: DEMO_APP_ID,
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

  kintone.runAction(DEMO_APP_ID, recordId, "Approve");
  const second = track(await startRelayProcess(env, dataDir));
  await waitFor(() => line.delivered.length === 1, 15_000, "the push after restart");
  // Give a duplicate every chance to appear.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(line.delivered).toHaveLength(1);
  expect(line.requests.filter((r) => r.path === "/v2/bot/message/push")).toHaveLength(1);
  // The job the killed process had committed is the one the new process finished.
  expect(first.output()).not.toContain("notification dispatched");
  expect(second.output()).toContain("notification dispatched");
});
