import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { MIGRATIONS } from "../../relay/src/store/sqlite-schema.js";
import { openSqliteStore, type SqliteStore } from "../../relay/src/store/sqlite-store.js";
import { approvalRequest, startStack, waitFor, type Stack } from "../helpers/start-stack.js";

const DAY = 24 * 60 * 60_000;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rule-sets-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const count = (store: SqliteStore, table: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
const userOf = (i: number) => "U" + i.toString(16).padStart(32, "0");

it("200 notifications of one rule set keep its text once, and the worker builds each message from it", { timeout: 120_000 }, async () => {
  const stack: Stack = await startStack();
  cleanups.push(() => stack.close());
  const rules = demoRuleSet();
  const text = JSON.stringify(rules);
  const records = Array.from({ length: 200 }, (_, i) => {
    const { id } = stack.kintone.addRecord(stack.demoAppId, { order_no: `A-${i}`, customer: `Customer ${i}`, line_user_id: userOf(i) });
    stack.kintone.runAction(stack.demoAppId, id, "Approve");
    return id;
  });
  for (let start = 0; start < records.length; start += 50) {
    const answers = await Promise.all(records.slice(start, start + 50).map((recordId) => stack.notify(approvalRequest(recordId, rules))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
  }

  expect(count(stack.store, "notifications")).toBe(200);
  // The notifications' text and the app's stored version (the same canonical JSON) share one row.
  expect(stack.store.db.prepare(`SELECT hash, rules FROM rule_set_contents`).all()).toEqual([{ hash: sha256(text), rules: text }]);
  expect(stack.store.db.prepare(`SELECT DISTINCT rules_hash FROM notifications`).all()).toEqual([{ rules_hash: sha256(text) }]);
  const columns = (stack.store.db.prepare(`PRAGMA table_info(notifications)`).all() as Array<{ name: string }>).map((c) => c.name);
  expect(columns).not.toContain("rules");

  await waitFor(() => stack.line.delivered.length >= 200, 90_000, "200 pushes");
  await stack.relay.worker.idle();
  expect(stack.line.delivered).toHaveLength(200);
  for (let i = 0; i < 200; i++) {
    const [push, ...more] = stack.line.delivered.filter((d) => d.kind === "push" && d.to.includes(userOf(i)));
    expect(more).toHaveLength(0);
    const message = JSON.stringify(push?.messages);
    expect(message).toContain(`Order A-${i} approved`);
    expect(message).toContain(`Customer ${i}`);
  }
});

it("a rule set of another content is a second row; each notification reads its own text back", async () => {
  const store = openSqliteStore(":memory:");
  cleanups.push(() => store.close());
  const first = JSON.stringify(demoRuleSet());
  const second = JSON.stringify({ ...demoRuleSet(), language: "ja" });
  const input = (recordId: string, rules: string) => ({ appId: "1", recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules });
  const a = await store.enqueueNotification(input("1", first), "k1", 1_000);
  const b = await store.enqueueNotification(input("2", second), "k2", 1_000);
  const c = await store.enqueueNotification(input("3", first), "k3", 1_000);
  expect(count(store, "rule_set_contents")).toBe(2);
  expect((await store.getNotification(a.id))?.rules).toBe(first);
  expect((await store.getNotification(b.id))?.rules).toBe(second);
  expect((await store.getNotification(c.id))?.rules).toBe(first);
  // The app's versions use the same rows (one hash function for both).
  await store.saveAppRules("1", second, 2_000);
  expect(count(store, "rule_set_contents")).toBe(2);
  expect((await store.getAppRules("1"))?.rules).toBe(second);
});

it("the migration moves each stored rule set into rule_set_contents once and drops the text column", async () => {
  const dir = tempDir();
  // A store as the last release left it: the migrations before the one that moves the texts.
  const moving = MIGRATIONS.findIndex((migration) => migration.includes("DROP COLUMN rules;"));
  expect(moving).toBeGreaterThan(0);
  const old = new Database(join(dir, "relay.sqlite"));
  for (const migration of MIGRATIONS.slice(0, moving)) old.exec(migration);
  old.pragma(`user_version = ${moving}`);
  const insert = old.prepare(
    `INSERT INTO notifications (id, dedup_key, app_id, record_id, action, status, next_status, rules, state, created_at, updated_at)
     VALUES (?, ?, '1', ?, 'Approve', 'Submitted', 'Approved', ?, 'dispatched', ?, ?)`,
  );
  const pretty = JSON.stringify(demoRuleSet(), null, 2); // as some proxy config held it: kept byte for byte
  const plain = JSON.stringify(demoRuleSet());
  for (let i = 0; i < 300; i++) insert.run(`n${i}`, `k${i}`, String(i), i % 3 === 0 ? pretty : plain, 1_000 + i, 1_000 + i);
  // The app's stored version of the plain text is already there.
  old.prepare(`INSERT INTO rule_set_contents (hash, rules, created_at) VALUES (?, ?, 500)`).run(sha256(plain), plain);
  old.close();

  const store = openSqliteStore(dir);
  cleanups.push(() => store.close());
  const contents = store.db.prepare(`SELECT hash, rules, created_at FROM rule_set_contents ORDER BY created_at`).all();
  expect(contents).toEqual([
    { hash: sha256(plain), rules: plain, created_at: 500 },
    { hash: sha256(pretty), rules: pretty, created_at: 1_000 },
  ]);
  expect(count(store, "notifications")).toBe(300);
  expect(store.db.prepare(`SELECT COUNT(*) AS n FROM notifications WHERE rules_hash IS NULL`).get()).toEqual({ n: 0 });
  expect((await store.getNotification("n0"))?.rules).toBe(pretty);
  expect((await store.getNotification("n1"))?.rules).toBe(plain);
  const columns = (store.db.prepare(`PRAGMA table_info(notifications)`).all() as Array<{ name: string }>).map((c) => c.name);
  expect(columns).toContain("rules_hash");
  expect(columns).not.toContain("rules");
  expect(store.db.pragma("foreign_key_check")).toEqual([]);
});

it("pruning drops a rule set's text once no notification and no app version names it", async () => {
  const store = openSqliteStore(":memory:");
  cleanups.push(() => store.close());
  const now = 100 * DAY;
  const old = now - 40 * DAY;
  const gone = JSON.stringify({ ...demoRuleSet(), language: "ja" });
  const appVersion = JSON.stringify(demoRuleSet());
  const recent = JSON.stringify({ ...demoRuleSet(), timeZone: "UTC" });
  const input = (recordId: string, rules: string) => ({ appId: "1", recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules });

  // Old, finished notifications: one of a text nothing else names, one of the app's stored version.
  for (const [recordId, rules] of [["1", gone], ["2", appVersion]] as const) {
    await store.enqueueNotification(input(recordId, rules), `k${recordId}`, old);
    const job = await store.claimJob(old + 1, 60_000, ["notification"]);
    if (!job) throw new Error("no notification job");
    await store.finishNotification(job, job.refId, "no_match", "no rule matched", old + 2);
  }
  await store.saveAppRules("1", appVersion, old);
  // An old text still named by a pending notification stays too.
  await store.enqueueNotification(input("3", recent), "k3", old);
  expect(count(store, "rule_set_contents")).toBe(3);

  await store.pruneFinished(now - 30 * DAY);
  expect(count(store, "notifications")).toBe(1);
  const left = (store.db.prepare(`SELECT rules FROM rule_set_contents`).all() as Array<{ rules: string }>).map((r) => r.rules).sort();
  expect(left).toEqual([appVersion, recent].sort());
  expect((await store.getAppRules("1"))?.rules).toBe(appVersion);
});
