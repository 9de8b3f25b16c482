/**
 * Reminder rules (`trigger.schedule`): with the relay's clock moved to `at`, exactly the records
 * whose date is due are notified, once; a record whose date changed gets its own reminder; a
 * relay started after `at` catches up that day; a second run the same day sends nothing. Real
 * HTTP: the relay queries the kintone emulator (get records, kintone's query language) and
 * pushes to the LINE emulator.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startStack, waitFor, type Stack } from "../helpers/start-stack.js";

const USER = "U" + "d".repeat(32);
/** 2030-05-01 08:59 in Tokyo (UTC+9). */
const BEFORE_AT = Date.parse("2030-04-30T23:59:00Z");
/** 09:00 in Tokyo, that day. */
const AT = Date.parse("2030-05-01T00:00:00Z");

const reminderRule = {
  id: "due-tomorrow",
  name: "Due tomorrow",
  trigger: { schedule: { field: "due_date", offsetDays: -1, at: "09:00" } },
  when: { all: [{ field: "priority", op: "ne", value: "Low" }] },
  recipients: { fields: ["line_user_id"], ids: [] },
  message: { title: "Order {{order_no}} is due", fields: ["customer"] },
  buttons: [],
};

class MovableClock {
  constructor(public time: number) {}
  now = () => this.time;
}

let stack: Stack | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function storeRules(s: Stack, language?: "ja" | "en") {
  const ruleSet = { version: 1, timeZone: "Asia/Tokyo", ...(language ? { language } : {}), rules: [reminderRule] };
  const response = await fetch(`${s.relayUrl}/v1/apps/${s.demoAppId}/rules`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${s.relaySecret}` },
    body: JSON.stringify({ rules: JSON.stringify(ruleSet) }),
  });
  expect(response.status).toBe(200);
}

const pushes = (s: Stack) => s.line.requests.filter((r) => r.path === "/v2/bot/message/push");
const pushedTitles = (s: Stack) =>
  pushes(s).map((r) => (r.body as { messages: Array<{ altText: string }> }).messages[0]?.altText ?? "");
const order = (s: Stack, no: string, due: string, priority = "High") =>
  s.kintone.addRecord(s.demoAppId, { order_no: no, customer: `${no} Ltd`, due_date: due, priority, line_user_id: USER }).id;

async function quiet(s: Stack) {
  await waitFor(() => (s.store.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state != 'done'`).get() as { n: number }).n === 0, 8000, "all jobs done");
}

describe("reminder rules", () => {
  it("at `at` notifies exactly the records due, once; a changed date gets its own reminder; the next day's run is its own", async () => {
    const clock = new MovableClock(BEFORE_AT);
    stack = await startStack({ clock, reminderIntervalMs: 20 });
    await storeRules(stack, "en");
    const due = order(stack, "R-1", "2030-05-02");
    order(stack, "R-2", "2030-05-03"); // not tomorrow
    order(stack, "R-3", "2030-05-02", "Low"); // tomorrow, but the condition is false
    const moved = order(stack, "R-4", "2030-05-02");

    expect(await stack.relay.reminders.runDue()).toBe(0); // 08:59: not yet
    expect(pushes(stack)).toHaveLength(0);

    clock.time = AT;
    await waitFor(() => pushes(stack!).length === 2, 5000, "two reminders");
    await quiet(stack);
    expect(pushedTitles(stack).sort()).toEqual(["Order R-1 is due", "Order R-4 is due"]);
    const body = pushes(stack)[0]?.body as { to: string; messages: Array<{ contents: unknown }> };
    expect(body.to).toBe(USER);
    expect(JSON.stringify(body.messages[0]?.contents)).toContain("Reminder: Due date 2030-05-02 (tomorrow)");
    // The kintone query the relay sent: by the date field, paged by $id.
    const query = stack.kintone.requests.find((r) => r.path === "/k/v1/records.json")?.query.query;
    expect(query).toBe('(due_date = "2030-05-02") and $id > 0 order by $id asc limit 500');

    // Later the same day: nothing more, even with a record that now falls on the date.
    clock.time = AT + 3 * 3600_000;
    order(stack, "R-5", "2030-05-02");
    expect(await stack.relay.reminders.runDue()).toBe(0);
    await quiet(stack);
    expect(pushes(stack)).toHaveLength(2);

    // R-4's date moves to the 3rd: on the 2nd it is reminded again, about its new date, as R-2 is.
    stack.kintone.editRecord(stack.demoAppId, moved, { due_date: "2030-05-03" });
    clock.time = AT + 24 * 3600_000;
    await waitFor(() => pushes(stack!).length === 4, 5000, "the next day's reminders");
    await quiet(stack);
    expect(pushedTitles(stack).slice(2).sort()).toEqual(["Order R-2 is due", "Order R-4 is due"]);
    const sent = stack.store.db.prepare(`SELECT record_id, date_value FROM reminders_sent ORDER BY date_value, record_id + 0`).all();
    // R-3 was claimed too; its job found the condition false and sent nothing.
    expect(sent).toEqual([
      { record_id: due, date_value: "2030-05-02" },
      { record_id: "3", date_value: "2030-05-02" },
      { record_id: moved, date_value: "2030-05-02" },
      { record_id: "2", date_value: "2030-05-03" },
      { record_id: moved, date_value: "2030-05-03" },
    ]);
    const low = stack.store.db.prepare(`SELECT state FROM notifications WHERE record_id = '3'`).get() as { state: string };
    expect(low.state).toBe("no_match");
  });

  it("a reminder whose record changed date before the job ran sends nothing", async () => {
    const clock = new MovableClock(BEFORE_AT);
    stack = await startStack({ clock, reminderIntervalMs: 60_000 });
    await storeRules(stack);
    const id = order(stack, "R-9", "2030-05-02");
    stack.kintone.failNext({ method: "GET", path: "/k/v1/record.json" }, { status: 503 });
    clock.time = AT;
    await stack.relay.reminders.runDue();
    // The first read failed; the record's date changes before the retry (the clock is frozen: move it past the backoff).
    const s = stack;
    await waitFor(() => (s.store.db.prepare(`SELECT attempts FROM jobs`).get() as { attempts: number } | undefined)?.attempts === 1, 5000, "a retry");
    stack.kintone.editRecord(stack.demoAppId, id, { due_date: "2030-06-01" });
    clock.time += 60_000;
    stack.relay.worker.wake();
    await quiet(stack);
    expect(pushes(stack)).toHaveLength(0);
    const row = stack.store.db.prepare(`SELECT state, detail FROM notifications`).get() as { state: string; detail: string };
    expect(row.state).toBe("no_match");
    expect(row.detail).toContain("no longer due");
  });

  it("a relay started after `at` catches up that day; a restarted relay never sends the day again", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "relay-reminders-"));
    const clock = new MovableClock(BEFORE_AT);
    stack = await startStack({ clock, dataDir, reminderIntervalMs: 60_000 });
    await storeRules(stack, "ja");
    order(stack, "R-1", "2030-05-02");
    const records = stack.kintone.getRecord(stack.demoAppId, 1);
    await stack.close();
    stack = undefined;

    // Down at 09:00; back at 15:00.
    clock.time = AT + 6 * 3600_000;
    stack = await startStack({ clock, dataDir, reminderIntervalMs: 20 });
    stack.kintone.addRecord(stack.demoAppId, {
      order_no: records.order_no?.value,
      customer: records.customer?.value,
      due_date: "2030-05-02",
      priority: "High",
      line_user_id: USER,
    });
    await waitFor(() => pushes(stack!).length === 1, 5000, "the caught-up reminder");
    const body = pushes(stack)[0]?.body as { messages: Array<{ contents: unknown }> };
    expect(JSON.stringify(body.messages[0]?.contents)).toContain("リマインダー：Due date 2030-05-02（明日）");
    await quiet(stack);
    await stack.close();
    stack = undefined;

    clock.time = AT + 7 * 3600_000;
    stack = await startStack({ clock, dataDir, reminderIntervalMs: 20 });
    stack.kintone.addRecord(stack.demoAppId, { order_no: "R-1", due_date: "2030-05-02", priority: "High", line_user_id: USER });
    expect(await stack.relay.reminders.runDue()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pushes(stack)).toHaveLength(0);
    expect(stack.kintone.requests.filter((r) => r.path === "/k/v1/records.json")).toHaveLength(0);
  });
});
