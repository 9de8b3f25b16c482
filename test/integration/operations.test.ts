import { afterEach, describe, expect, it } from "vitest";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { pushMonthOf } from "../../relay/src/quota/push-month.js";
import { followEvent, postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { approvalRequest, startStack, TEST_CHANNEL_SECRET, waitFor, type Stack, type StackOptions } from "../helpers/start-stack.js";

const USER_A = "U" + "a".repeat(32);

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

async function start(options: StackOptions = {}) {
  stack = await startStack(options);
  return stack;
}

const pushRequests = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push" || r.path === "/v2/bot/message/multicast");

/** An approved order (kintone already shows the new status) and its notification; resolves once the delivery ended. */
async function notifyApproved(headers: Record<string, string> = {}) {
  const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, {
    order_no: "A-100",
    customer: "Sakura Trading",
    amount: "125000",
    due_date: "2026-12-01",
    line_user_id: USER_A,
    priority: "High",
  });
  stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
  const response = await fetch(`${stack.relayUrl}/v1/notifications`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.relaySecret}`, ...headers },
    body: JSON.stringify(approvalRequest(recordId)),
  });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  const delivery = await waitFor(async () => {
    const [row] = await stack.store.listRecordDeliveries(String(stack.demoAppId), String(recordId));
    return row && row.state !== "pending" ? row : undefined;
  }, 10_000, `record ${recordId}'s delivery to end`);
  return { recordId: String(recordId), notificationId: id, delivery, response };
}

async function deliveriesView(recordId: string) {
  const response = await fetch(`${stack.relayUrl}/v1/records/${stack.demoAppId}/${recordId}/deliveries`, {
    headers: { authorization: `Bearer ${stack.relaySecret}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { deliveries: Array<{ state: string; detail: string | null; recipients: Array<{ id: string; state: string }> }> };
}

describe("RELAY_MONTHLY_PUSH_CAP", () => {
  it("cap 2, three notifications: two pushes reach LINE, the third is capped, shown so, and the cap is logged once", async () => {
    await start({ monthlyPushCap: 2 });
    const first = await notifyApproved();
    const second = await notifyApproved();
    const third = await notifyApproved();

    expect([first.delivery.state, second.delivery.state, third.delivery.state]).toEqual(["sent", "sent", "capped"]);
    expect(pushRequests()).toHaveLength(2);
    expect(stack.line.delivered.map((d) => d.to)).toEqual([[USER_A], [USER_A]]);

    const view = await deliveriesView(third.recordId);
    expect(view.deliveries[0]?.state).toBe("capped");
    expect(view.deliveries[0]?.detail).toContain("RELAY_MONTHLY_PUSH_CAP 2 reached");
    expect(view.deliveries[0]?.recipients).toEqual([{ id: "Uaaaa…aaaa", state: "capped" }]);

    // A fourth is capped too, but the month's error was logged once only.
    const fourth = await notifyApproved();
    expect(fourth.delivery.state).toBe("capped");
    expect(pushRequests()).toHaveLength(2);
    const capErrors = stack.logger.lines.filter((line) => line.level === "error" && line.message.startsWith("monthly push limit reached"));
    expect(capErrors).toHaveLength(1);
    expect(await stack.store.getPushUsage(pushMonthOf(Date.now(), "Asia/Tokyo"))).toMatchObject({ pushed: 2, lineLimitedAt: null });
  });

  it("LINE's own 429 'monthly limit': the delivery is capped with LINE's message, not retried, and later ones are not pushed this month", async () => {
    await start();
    stack.line.setMonthlyQuota(1);
    const first = await notifyApproved();
    expect(first.delivery.state).toBe("sent");
    const second = await notifyApproved();
    expect(second.delivery.state).toBe("capped");
    expect(second.delivery.detail).toContain("You have reached your monthly limit");
    // Pushed once, refused once with 429, and never asked again.
    expect(pushRequests().map((r) => r.status)).toEqual([200, 429]);

    const third = await notifyApproved();
    expect(third.delivery.state).toBe("capped");
    expect(pushRequests()).toHaveLength(2);
    const view = await deliveriesView(third.recordId);
    expect(view.deliveries[0]?.recipients.map((r) => r.state)).toEqual(["capped"]);

    const usage = await stack.store.getPushUsage(pushMonthOf(Date.now(), "Asia/Tokyo"));
    expect(usage.pushed).toBe(1);
    expect(usage.lineLimitedAt).not.toBeNull();
  });
});

describe("GET /v1/quota", () => {
  it("answers the relay's count, the cap and LINE's figures from /v2/bot/message/quota and /quota/consumption, cached a minute", async () => {
    await start({ monthlyPushCap: 50 });
    stack.line.setMonthlyQuota(200);
    await notifyApproved();
    const ask = (headers: Record<string, string>) => fetch(`${stack.relayUrl}/v1/quota`, { headers });

    const master = await ask({ authorization: `Bearer ${stack.relaySecret}` });
    expect(master.status).toBe(200);
    expect(await master.json()).toEqual({
      month: pushMonthOf(Date.now(), "Asia/Tokyo"),
      pushed: 1,
      cap: 50,
      lineLimited: false,
      line: { type: "limited", value: 200, totalUsage: 1 },
    });
    const lineAsks = () => stack.line.requests.filter((r) => r.path.startsWith("/v2/bot/message/quota"));
    expect(lineAsks().map((r) => `${r.method} ${r.path}`).sort()).toEqual(["GET /v2/bot/message/quota", "GET /v2/bot/message/quota/consumption"]);

    // The channel's figures, open to an app key as GET /v1/groups is; the second ask is served from the cache.
    const appKey = await ask({ authorization: `Bearer ${deriveAppKey(stack.relaySecret, String(stack.demoAppId))}`, "x-relay-app": String(stack.demoAppId) });
    expect(appKey.status).toBe(200);
    expect(((await appKey.json()) as { line: unknown }).line).toEqual({ type: "limited", value: 200, totalUsage: 1 });
    expect(lineAsks()).toHaveLength(2);

    expect((await ask({})).status).toBe(401);
  });
});

/** A strict reader of the Prometheus text format (0.0.4): every line is a comment, a sample or empty. */
function parsePrometheus(text: string) {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === "TYPE") {
        expect(["counter", "gauge", "histogram", "summary", "untyped"]).toContain(comment[3]);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus text line: ${line}`);
    const labels: Record<string, string> = {};
    const rest = sample[2] ?? "";
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let at = 0;
    while (at < rest.length) {
      labelPattern.lastIndex = at;
      const label = labelPattern.exec(rest);
      if (!label) throw new Error(`bad labels in: ${line}`);
      labels[label[1]!] = label[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      at = labelPattern.lastIndex;
    }
    const raw = sample[3]!;
    // Go's strconv.ParseFloat, which Prometheus reads values with: Inf and NaN in any case.
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(raw);
    const value = special ? (special[2]!.toLowerCase() === "nan" ? NaN : special[1] === "-" ? -Infinity : Infinity) : Number(raw);
    if (!special && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  return { samples, types, value };
}

describe("GET /metrics", () => {
  it("needs the master secret: 401 without it, 403 with an app key", async () => {
    await start();
    expect((await fetch(`${stack.relayUrl}/metrics`)).status).toBe(401);
    const appKey = await fetch(`${stack.relayUrl}/metrics`, {
      headers: { authorization: `Bearer ${deriveAppKey(stack.relaySecret, String(stack.demoAppId))}`, "x-relay-app": String(stack.demoAppId) },
    });
    expect(appKey.status).toBe(403);
    expect(((await appKey.json()) as { error: { code: string } }).error.code).toBe("master_secret_required");
  });

  it("serves the relay's series in the Prometheus text format, moving with the work", async () => {
    await start({ monthlyPushCap: 1 });
    const scrape = async () => {
      const response = await fetch(`${stack.relayUrl}/metrics`, { headers: { authorization: `Bearer ${stack.relaySecret}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      return parsePrometheus(await response.text());
    };
    const before = await scrape();
    expect(before.types.get("relay_pushes_total")).toBe("counter");
    expect(before.types.get("relay_job_duration_seconds")).toBe("histogram");
    expect(before.types.get("relay_jobs")).toBe("gauge");
    expect(before.value("relay_pushes_total", { result: "sent" })).toBe(0);
    expect(before.value("relay_jobs", { kind: "delivery", state: "pending" })).toBe(0);
    expect(before.value("relay_dead_letters")).toBe(0);
    expect(before.value("process_cpu_user_seconds_total")).toBeGreaterThan(0);

    await notifyApproved(); // pushed
    await notifyApproved(); // capped (cap 1)
    const follow = webhookBody([followEvent({ userId: USER_A, replyToken: "r".repeat(32) })]);
    expect((await postWebhook(stack.relayUrl, follow, TEST_CHANNEL_SECRET)).status).toBe(200);
    await waitFor(() => stack.line.requests.some((r) => r.path === "/v2/bot/message/reply"), 5000, "the welcome reply");
    await stack.relay.worker.idle();

    const after = await scrape();
    expect(after.value("relay_pushes_total", { result: "sent" })).toBe(1);
    expect(after.value("relay_pushes_total", { result: "capped" })).toBe(1);
    expect(after.value("relay_webhook_events_total", { type: "follow" })).toBe(1);
    const replies = stack.line.requests.filter((r) => r.path === "/v2/bot/message/reply");
    expect((after.value("relay_replies_total", { result: "sent" }) ?? 0) + (after.value("relay_replies_total", { result: "rejected" }) ?? 0)).toBe(replies.length);
    // Two notifications read the record (and the form) from kintone, all answered 200.
    expect(after.value("relay_kintone_requests_total", { status: "200" })).toBeGreaterThanOrEqual(2);
    expect(after.value("relay_job_duration_seconds_count", { kind: "delivery" })).toBe(2);
    expect(after.value("relay_job_duration_seconds_count", { kind: "notification" })).toBeGreaterThanOrEqual(2);
    expect(after.value("relay_job_duration_seconds_bucket", { kind: "delivery", le: "+Inf" })).toBe(2);
    expect(after.value("relay_jobs", { kind: "notification", state: "pending" })).toBe(0);
  });

  it("shows queued jobs and dead letters from the store", async () => {
    await start();
    await stack.relay.worker.stop();
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "A-1", line_user_id: USER_A, priority: "High" });
    expect((await stack.notify(approvalRequest(recordId))).status).toBe(202);
    const job = await stack.store.claimJob(Date.now(), 60_000, ["notification"]);
    if (!job) throw new Error("the notification's job was not queued");
    await stack.store.deadLetterJob(job, "kintone 503 for a day", Date.now());
    expect((await stack.notify(approvalRequest(recordId))).status).toBe(202);
    const response = await fetch(`${stack.relayUrl}/metrics`, { headers: { authorization: `Bearer ${stack.relaySecret}` } });
    const metrics = parsePrometheus(await response.text());
    expect(metrics.value("relay_dead_letters")).toBe(1);
    expect(metrics.value("relay_jobs", { kind: "notification", state: "pending" })).toBe(1);
  });
});

describe("structured logs", () => {
  it("one notification's lines, from POST /v1/notifications through the push, carry the request's X-Request-Id", async () => {
    await start();
    const { notificationId, delivery, response } = await notifyApproved({ "x-request-id": "ops-test-req-42" });
    expect(response.headers.get("x-request-id")).toBe("ops-test-req-42");
    const mine = stack.logger.lines.filter((line) => line.reqId === "ops-test-req-42");
    expect(mine.map((line) => line.message)).toEqual(expect.arrayContaining(["notification accepted", "notification dispatched", "delivery sent"]));
    expect(mine.find((line) => line.message === "notification accepted")?.notification).toBe(notificationId);
    expect(mine.find((line) => line.message === "delivery sent")?.delivery).toBe(delivery.id);
    // Every line about this notification or its delivery has that id, and no other work's line does.
    const about = stack.logger.lines.filter((line) => line.notification === notificationId || line.delivery === delivery.id);
    expect(about.length).toBeGreaterThanOrEqual(3);
    for (const line of about) expect(line.reqId).toBe("ops-test-req-42");

    // Without a sane X-Request-Id the relay makes one.
    const other = await notifyApproved({ "x-request-id": "no spaces allowed" });
    const made = other.response.headers.get("x-request-id");
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    expect(stack.logger.lines.find((line) => line.message === "delivery sent" && line.delivery === other.delivery.id)?.reqId).toBe(made);
  });
});
