import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { KintoneApiError, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { listen } from "../../emulators/listen.js";

// Request forms, recording and the test controls; through app.request() (no socket) except
// where a real socket is the point (a GET with a JSON body).

const T0 = Date.UTC(2026, 10, 21, 5, 0, 0);

function setup() {
  const kintone = createKintoneEmulator({ now: () => T0 });
  kintone.addApp({
    id: 7,
    fields: {
      title: { type: "SINGLE_LINE_TEXT", code: "title", label: "Title" },
      lines: {
        type: "SUBTABLE",
        code: "lines",
        label: "Lines",
        fields: {
          item: { type: "SINGLE_LINE_TEXT", code: "item", label: "Item" },
          qty: { type: "NUMBER", code: "qty", label: "Qty" },
        },
      },
    },
    process: { enable: true, states: ["Open", "Done"], actions: [{ name: "Close", from: "Open", to: "Done" }] },
    apiTokens: [{ token: "t7" }],
  });
  return kintone;
}

const TOKEN = { "X-Cybozu-API-Token": "t7" };

describe("request forms", () => {
  it("POST with X-HTTP-Method-Override: GET and a JSON body reads like a GET", async () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7, { title: "hello" });
    const res = await kintone.app.request("/k/v1/record.json", {
      method: "POST",
      headers: { ...TOKEN, "X-HTTP-Method-Override": "GET", "Content-Type": "application/json" },
      body: JSON.stringify({ app: 7, id }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { record: { title: { value: string } } }).record.title.value).toBe("hello");
    expect(kintone.requests.at(-1)).toMatchObject({
      method: "POST",
      effectiveMethod: "GET",
      path: "/k/v1/record.json",
      body: { app: 7, id },
      status: 200,
      at: T0,
    });
  });

  it("GET with a JSON body (as kintone.api() may send) over a real socket", async () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7, { title: "body get" });
    const server = await listen(kintone.app, 0);
    try {
      const payload = JSON.stringify({ app: 7, id: Number(id) });
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          `${server.url}/k/v1/record.json`,
          {
            method: "GET",
            headers: { ...TOKEN, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject);
        req.end(payload);
      });
      expect(status).toBe(200);
      expect(JSON.parse(text).record.title.value).toBe("body get");
    } finally {
      await server.close();
    }
  });

  it("records headers lower-case, the query and the parsed body", async () => {
    const kintone = setup();
    await kintone.app.request("/k/v1/app/form/fields.json?app=7", { headers: { ...TOKEN, "X-Custom": "A" } });
    expect(kintone.requests).toHaveLength(1);
    const [entry] = kintone.requests;
    expect(entry).toMatchObject({ method: "GET", query: { app: "7" }, body: undefined, status: 200 });
    expect(entry?.headers).toMatchObject({ "x-cybozu-api-token": "t7", "x-custom": "A" });
  });

  it("malformed JSON: 400 CB_IJ01; a path not emulated: a 404 that says so", async () => {
    const kintone = setup();
    const bad = await kintone.app.request("/k/v1/record.json", {
      method: "PUT",
      headers: { ...TOKEN, "Content-Type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "CB_IJ01" });
    expect(kintone.requests.at(-1)?.body).toBe("{not json");

    const missing = await kintone.app.request("/k/v1/app/views.json?app=7", { headers: TOKEN });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "EMULATOR_NOT_IMPLEMENTED" });
  });

  it("missing or non-integer parameters: 400 CB_VA01 naming the parameter", async () => {
    const kintone = setup();
    const res = await kintone.app.request("/k/v1/record.json?app=7&id=abc", { headers: TOKEN });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "CB_VA01", errors: { id: { messages: expect.any(Array) } } });
    const noApp = await kintone.app.request("/k/v1/record.json?id=1", { headers: TOKEN });
    expect(await noApp.json()).toMatchObject({ code: "CB_VA01", errors: { app: {} } });
  });
});

describe("faults", () => {
  it("failNext counts down and matches method and path; delayNext answers late", async () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7);
    kintone.failNext({ method: "get", path: /record\.json$/ }, { status: 500, count: 2 });
    const get = () => kintone.app.request(`/k/v1/record.json?app=7&id=${id}`, { headers: TOKEN });
    expect((await kintone.app.request("/k/v1/app/status.json?app=7", { headers: TOKEN })).status).toBe(200);
    expect((await get()).status).toBe(500);
    const second = await get();
    expect(second.status).toBe(500);
    expect(await second.json()).toMatchObject({ code: "EMULATOR_INJECTED", id: expect.any(String) });
    expect((await get()).status).toBe(200);

    kintone.delayNext({ path: "/k/v1/record.json" }, { ms: 50 });
    const started = performance.now();
    expect((await get()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("staleNextUpdate also catches an update-status request that names a revision", async () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7);
    kintone.staleNextUpdate(7, id);
    const res = await kintone.app.request("/k/v1/record/status.json", {
      method: "PUT",
      headers: { ...TOKEN, "Content-Type": "application/json" },
      body: JSON.stringify({ app: 7, id, action: "Close", revision: 1 }),
    });
    expect(res.status).toBe(409);
    expect(kintone.getRecord(7, id)).toMatchObject({
      $revision: { value: "2" },
      ステータス: { value: "Open" },
      更新者: { value: { code: "concurrent-editor" } },
    });
  });
});

describe("controls", () => {
  it("addRecord normalises values as kintone stores them and refuses what kintone refuses", () => {
    const kintone = setup();
    const { id, revision } = kintone.addRecord(
      7,
      { title: 42, lines: [{ value: { item: { value: "pen" }, qty: { value: 3 } } }] },
      { user: { code: "sato", name: "Sato" }, createdAt: Date.UTC(2026, 0, 2, 3, 4, 59) },
    );
    expect([id, revision]).toEqual(["1", "1"]);
    const record = kintone.getRecord(7, id);
    expect(record.title?.value).toBe("42");
    expect(record.lines?.value).toEqual([
      { id: expect.any(String), value: { item: { type: "SINGLE_LINE_TEXT", value: "pen" }, qty: { type: "NUMBER", value: "3" } } },
    ]);
    expect(record.作成者?.value).toEqual({ code: "sato", name: "Sato" });
    expect(record.作成日時?.value).toBe("2026-01-02T03:04:00Z");

    expect(() => kintone.addRecord(7, { nope: "x" })).toThrow(KintoneApiError);
    expect(() => kintone.addRecord(7, { lines: [{ value: { qty: { value: "x" } } }] })).toThrow(
      /record\.lines\.value\[0\]\.value\[qty\]\.value/,
    );
    expect(() => kintone.addRecord(99)).toThrow(/GAIA_AP01/);
  });

  it("editRecord keeps the ids of the table rows it is given and drops the others", () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7, {
      lines: [{ value: { item: { value: "a" } } }, { value: { item: { value: "b" } } }],
    });
    const rows = kintone.getRecord(7, id).lines?.value as Array<{ id: string }>;
    const keep = rows[1]?.id;
    kintone.editRecord(7, id, { lines: [{ id: keep, value: { item: { value: "b2" } } }, { value: {} }] });
    const after = kintone.getRecord(7, id).lines?.value as Array<{ id: string; value: { item: { value: string } } }>;
    expect(after.map((r) => r.value.item.value)).toEqual(["b2", ""]);
    expect(after[0]?.id).toBe(keep);
    expect(after[1]?.id).not.toBe(rows[0]?.id);
  });

  it("setStatus only stores the status; getRecord hands out copies", () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7);
    kintone.setStatus(7, id, "Done");
    const record = kintone.getRecord(7, id);
    expect(record.ステータス?.value).toBe("Done");
    expect(record.$revision?.value).toBe("1");
    record.ステータス!.value = "tampered";
    expect(kintone.getRecord(7, id).ステータス?.value).toBe("Done");
    expect(() => kintone.setStatus(7, id, "Nowhere")).toThrow();
  });

  it("system field codes can follow another display language", async () => {
    const kintone = createKintoneEmulator({ now: () => T0 });
    kintone.addApp({
      id: 1,
      fields: {},
      process: { enable: true, states: ["New"], actions: [] },
      apiTokens: [{ token: "t" }],
      systemFieldCodes: { status: "Status", assignee: "Assignee", recordNumber: "Record_number" },
    });
    const { id } = kintone.addRecord(1);
    expect(kintone.getRecord(1, id)).toMatchObject({
      Status: { type: "STATUS", value: "New" },
      Assignee: { type: "STATUS_ASSIGNEE" },
      Record_number: { type: "RECORD_NUMBER", value: id },
    });
  });

  it("addApp refuses definitions kintone could not have", () => {
    const kintone = setup();
    expect(() => kintone.addApp({ id: 7, fields: {}, apiTokens: [] })).toThrow(/already exists/);
    expect(() => kintone.addApp({ id: 8, fields: {}, apiTokens: [{ token: "t7" }] })).toThrow(/already used/);
    expect(() =>
      kintone.addApp({ id: 9, fields: { a: { type: "TEXT", code: "a", label: "a" } }, apiTokens: [] }),
    ).toThrow(/not a user field type/);
    expect(() =>
      kintone.addApp({
        id: 10,
        fields: {},
        process: { enable: true, states: ["A"], actions: [{ name: "Go", from: "A", to: "B" }] },
        apiTokens: [],
      }),
    ).toThrow(/unknown status/);
  });

  it("comments pages newest first by default, ten at a time", async () => {
    const kintone = setup();
    const { id } = kintone.addRecord(7);
    for (let i = 1; i <= 12; i++) {
      const res = await kintone.app.request("/k/v1/record/comment.json", {
        method: "POST",
        headers: { ...TOKEN, "Content-Type": "application/json" },
        body: JSON.stringify({ app: 7, record: id, comment: { text: `c${i}` } }),
      });
      expect(await res.json()).toEqual({ id: String(i) });
    }
    const page = async (q: string) =>
      (await (await kintone.app.request(`/k/v1/record/comments.json?app=7&record=${id}${q}`, { headers: TOKEN })).json()) as {
        comments: Array<{ id: string }>;
        older: boolean;
        newer: boolean;
      };
    const first = await page("");
    expect(first.comments.map((c) => c.id)).toEqual(["12", "11", "10", "9", "8", "7", "6", "5", "4", "3"]);
    expect([first.older, first.newer]).toEqual([true, false]);
    const asc = await page("&order=asc&offset=10");
    expect(asc.comments.map((c) => c.id)).toEqual(["11", "12"]);
    expect([asc.older, asc.newer]).toEqual([true, false]);
    expect(kintone.comments(7, id)).toHaveLength(12);
  });
});
