import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";
import { held } from "../helpers/held-job.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const deadLetters = (dataDir: string, ...args: string[]) =>
  run("npm", ["run", "--silent", "dead-letters", "--", ...args], { cwd: ROOT, env: { ...process.env, RELAY_DATA_DIR: dataDir } });

it("npm run dead-letters lists the store's dead letters and retries one: its event is pending again and its job due", async () => {
  dir = mkdtempSync(join(tmpdir(), "dead-letters-"));
  const store = openSqliteStore(dir);
  await store.storeWebhookEvents([{ eventId: "ev1", type: "follow", sourceKey: "U1", timestamp: 1, redelivery: false, body: "{}" }], 10);
  const job = await store.claimJob(10, 60_000);
  const letter = await store.deadLetterJob(held(job), "LINE profile: 500 Internal server error", 20);
  await store.close();

  const listed = await deadLetters(dir, "list");
  expect(JSON.parse(listed.stdout.trim())).toEqual({
    id: letter.id,
    kind: "webhook-event",
    appId: null,
    recordId: null,
    error: "LINE profile: 500 Internal server error",
    attempts: 1,
    firstFailedAt: new Date(20).toISOString(),
  });

  const retried = await deadLetters(dir, "retry", letter.id);
  expect(retried.stdout).toContain(letter.id);
  await expect(deadLetters(dir, "retry", "x_unknown")).rejects.toMatchObject({ code: 1 });

  const after = openSqliteStore(dir);
  expect((await after.getWebhookEvent("ev1"))?.state).toBe("pending");
  expect((await after.claimJob(Date.now(), 60_000))?.refId).toBe("ev1");
  expect(await after.listDeadLetters()).toEqual([]);
  await after.close();
}, 60_000);

it("npm run dead-letters refuses a data dir with no relay database instead of creating one", async () => {
  dir = mkdtempSync(join(tmpdir(), "dead-letters-"));
  const typo = join(dir, "typo");
  const failed = await deadLetters(typo, "list").catch((error: unknown) => error as { code: number; stderr: string });
  expect(failed).toMatchObject({ code: 1 });
  expect((failed as { stderr: string }).stderr).toContain(join(typo, "relay.sqlite"));
  expect(existsSync(typo)).toBe(false);
}, 60_000);
