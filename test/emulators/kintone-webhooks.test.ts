import { type IncomingHttpHeaders, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { KintoneRestAPIClient } from "@kintone/rest-api-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KintoneEmulator, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { type RunningServer, listen } from "../../emulators/listen.js";

// kintone's webhooks from the emulator, received over real HTTP by a test receiver; the REST side
// is driven by the real @kintone/rest-api-client.

const APP = 5;
const T0 = Date.UTC(2026, 10, 21, 5, 0, 0);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let clock = T0;
let kintone: KintoneEmulator;
let server: RunningServer;
let receiver: Receiver;
let client: KintoneRestAPIClient;

beforeEach(async () => {
  clock = T0;
  kintone = createKintoneEmulator({ now: () => clock, publicUrl: "https://acme.cybozu.com" });
  kintone.addApp({
    id: APP,
    name: "Orders",
    fields: {
      order_no: { type: "SINGLE_LINE_TEXT", code: "order_no", label: "Order" },
      amount: { type: "NUMBER", code: "amount", label: "Amount" },
    },
    process: {
      enable: true,
      states: ["Draft", "Approved", "Shipped"],
      actions: [
        { name: "Approve", from: "Draft", to: "Approved" },
        { name: "Ship", from: "Approved", to: "Shipped" },
      ],
    },
    apiTokens: [{ token: "tok" }],
  });
  server = await listen(kintone.app, 0);
  receiver = await startReceiver();
  client = new KintoneRestAPIClient({ baseUrl: server.url, auth: { apiToken: "tok" } });
});

afterEach(async () => {
  await server.close();
  await receiver.close();
});

const ALL_EVENTS = ["ADD_RECORD", "UPDATE_RECORD", "DELETE_RECORD", "ADD_RECORD_COMMENT", "UPDATE_STATUS"] as const;

describe("kintone webhooks", () => {
  it("a status action through PUT /k/v1/record/status.json sends one UPDATE_STATUS with the record as REST returns it", async () => {
    const { id } = kintone.addRecord(APP, { order_no: "A-100", amount: 1200 });
    kintone.addWebhook(APP, { url: `${receiver.url}/hooks/kintone`, events: ["UPDATE_STATUS"] });

    const { revision } = await client.record.updateRecordStatus({ app: APP, id, action: "Approve" });
    await kintone.webhooksSettled();

    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(hook?.path).toBe("/hooks/kintone");
    expect(hook?.headers["content-type"]).toBe("application/json");
    expect(hook?.headers).not.toHaveProperty("x-cybozu-signature");
    const { record } = await client.record.getRecord({ app: APP, id });
    expect(hook?.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      type: "UPDATE_STATUS",
      app: { id: String(APP), name: "Orders" },
      record,
      recordTitle: "A-100",
      url: `https://acme.cybozu.com/k/${APP}/show#record=${id}`,
    });
    expect(hook?.body.record).toMatchObject({
      $id: { type: "__ID__", value: id },
      $revision: { type: "__REVISION__", value: revision },
      ステータス: { type: "STATUS", value: "Approved" },
      更新者: { type: "MODIFIER", value: { code: "Administrator", name: "Administrator" } },
      amount: { type: "NUMBER", value: "1200" },
    });
    expect(kintone.webhookDeliveries.map((d) => d.status)).toEqual([200]);
  });

  it("the bulk status API (PUT /k/v1/records/status.json) sends none", async () => {
    const first = kintone.addRecord(APP);
    const second = kintone.addRecord(APP);
    kintone.addWebhook(APP, { url: receiver.url, events: [...ALL_EVENTS] });

    const result = await client.record.updateRecordsStatus({
      app: APP,
      records: [
        { id: first.id, action: "Approve" },
        { id: second.id, action: "Approve" },
      ],
    });
    expect(result.records.map((r) => r.revision)).toEqual(["3", "3"]);
    await kintone.webhooksSettled();
    expect(kintone.getRecord(APP, second.id).ステータス?.value).toBe("Approved");
    expect(receiver.received).toEqual([]);
    expect(kintone.webhookDeliveries).toEqual([]);
  });

  it("the other bulk APIs (records.json POST, PUT, DELETE) send none either", async () => {
    kintone.addWebhook(APP, { url: receiver.url, events: [...ALL_EVENTS] });
    const { ids } = await client.record.addRecords({ app: APP, records: [{ order_no: { value: "B-1" } }, {}] });
    await client.record.updateRecords({ app: APP, records: [{ id: ids[0]!, record: { amount: { value: "5" } } }] });
    await client.record.deleteRecords({ app: APP, ids: ids.map(Number) });
    await kintone.webhooksSettled();
    expect(receiver.received).toEqual([]);
  });

  it("stops at 60 a minute: the 61st is dropped, the next minute sends again", async () => {
    const { id } = kintone.addRecord(APP, { order_no: "C-1" });
    kintone.addWebhook(APP, { url: receiver.url, events: ["UPDATE_RECORD"] });
    for (let i = 1; i <= 61; i++) {
      clock = T0 + i * 100;
      await client.record.updateRecord({ app: APP, id, record: { amount: { value: String(i) } } });
    }
    await kintone.webhooksSettled();
    expect(receiver.received).toHaveLength(60);
    expect(kintone.droppedWebhooks).toEqual([
      { url: `${receiver.url}/`, type: "UPDATE_RECORD", appId: APP, at: T0 + 6100 },
    ]);
    // The 61st edit itself went through; only its webhook was dropped.
    expect(kintone.getRecord(APP, id).amount?.value).toBe("61");

    clock = T0 + 60_000 + 200;
    await client.record.updateRecord({ app: APP, id, record: { amount: { value: "62" } } });
    await kintone.webhooksSettled();
    expect(receiver.received).toHaveLength(61);
    expect(receiver.received.at(-1)?.body.record).toMatchObject({ amount: { value: "62" } });
  });

  it("single-record REST calls and user actions send their own types; only registered events go out", async () => {
    kintone.addWebhook(APP, { url: `${receiver.url}/all`, events: [...ALL_EVENTS] });
    kintone.addWebhook(APP, { url: `${receiver.url}/comments`, events: ["ADD_RECORD_COMMENT"] });

    const { id } = await client.record.addRecord({ app: APP, record: { order_no: { value: "D-1" } } });
    await client.record.updateRecord({ app: APP, id, record: { amount: { value: "1" } } });
    const { id: commentId } = await client.record.addRecordComment({ app: APP, record: id, comment: { text: "hello" } });
    kintone.runAction(APP, id, "Approve", { user: { code: "sato", name: "Sato" } });
    clock = T0 + 1500;
    kintone.deleteRecord(APP, id, { user: { code: "sato", name: "Sato" } });
    await kintone.webhooksSettled();

    const all = receiver.received.filter((r) => r.path === "/all");
    expect(all.map((r) => r.body.type)).toEqual([
      "ADD_RECORD",
      "UPDATE_RECORD",
      "ADD_RECORD_COMMENT",
      "UPDATE_STATUS",
      "DELETE_RECORD",
    ]);
    const comments = receiver.received.filter((r) => r.path === "/comments");
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatchObject({
      type: "ADD_RECORD_COMMENT",
      comment: { id: commentId, text: "hello", creator: { code: "Administrator", name: "Administrator" } },
      url: `https://acme.cybozu.com/k/${APP}/show#record=${id}&comment=${commentId}`,
    });
    expect(all[3]?.body.record).toMatchObject({ 更新者: { value: { code: "sato", name: "Sato" } } });
    expect(all[4]?.body).toEqual({
      id: expect.any(String),
      type: "DELETE_RECORD",
      app: { id: String(APP), name: "Orders" },
      recordId: id,
      deletedBy: { code: "sato", name: "Sato" },
      deletedAt: "2026-11-21T05:00:01Z",
    });
  });

  it("the REST answer does not wait for a slow receiver", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = createServer((req, res) => {
      req.resume();
      void held.then(() => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = slow.address() as AddressInfo;
      const { id } = kintone.addRecord(APP);
      kintone.addWebhook(APP, { url: `http://127.0.0.1:${port}/`, events: ["UPDATE_STATUS"] });
      await client.record.updateRecordStatus({ app: APP, id, action: "Approve" });
      // Answered while the receiver still holds the webhook.
      expect(kintone.webhookDeliveries).toHaveLength(1);
      expect(kintone.webhookDeliveries[0]?.status).toBeUndefined();
      release();
      await kintone.webhooksSettled();
      expect(kintone.webhookDeliveries[0]?.status).toBe(200);
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});
