import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";

it("npm run backup copies the live database consistently", async () => {
  const dir = mkdtempSync(join(tmpdir(), "relay-backup-"));
  try {
    const store = openSqliteStore(join(dir, "data"));
    const input = { appId: "1", recordId: "2", action: "Approve", status: "A", nextStatus: "B", rules: "{}" };
    const { id } = await store.enqueueNotification(input, "key", Date.now());
    const run = spawnSync("npm", ["run", "-s", "backup", "--", join(dir, "copy.sqlite")], {
      cwd: join(import.meta.dirname, "../.."),
      env: { ...process.env, RELAY_DATA_DIR: join(dir, "data") },
      encoding: "utf8",
    });
    await store.close();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("backed up");
    const copy = new Database(join(dir, "copy.sqlite"), { readonly: true });
    expect(copy.prepare("SELECT id, state FROM notifications").all()).toEqual([{ id, state: "pending" }]);
    copy.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
