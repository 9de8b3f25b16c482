import { KintoneRestAPIClient, KintoneRestAPIError } from "@kintone/rest-api-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KintoneEmulator, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { type RunningServer, listen } from "../../emulators/listen.js";

// What kintone refuses, and who it says did what, through the real @kintone/rest-api-client
// (raw fetch where a header is the point).

const APP = 3;
const SATO = { code: "sato", name: "Sato" };
const SUZUKI = { code: "suzuki", name: "Suzuki" };
const ADMINISTRATOR = { code: "Administrator", name: "Administrator" };

let kintone: KintoneEmulator;
let server: RunningServer;
let client: KintoneRestAPIClient;

async function apiError(promise: Promise<unknown>): Promise<KintoneRestAPIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KintoneRestAPIError);
  return error as KintoneRestAPIError;
}

beforeEach(async () => {
  kintone = createKintoneEmulator({ now: () => Date.UTC(2026, 10, 21, 5, 0, 0) });
  kintone.addApp({
    id: APP,
    fields: { title: { type: "SINGLE_LINE_TEXT", code: "title", label: "Title" } },
    process: {
      enable: true,
      states: ["Draft", "Review", "Approved", "Done"],
      actions: [
        { name: "Submit", from: "Draft", to: "Review" },
        { name: "Approve", from: "Review", to: "Approved" },
        { name: "Close", from: "Approved", to: "Done" },
      ],
      assignees: {
        Review: { type: "ONE", users: [SATO, SUZUKI] },
        Approved: { type: "ANY", users: [ADMINISTRATOR, SATO] },
      },
    },
    apiTokens: [{ token: "tok" }, { token: "tok-no-delete", permissions: { view: true, add: true, edit: true } }],
  });
  server = await listen(kintone.app, 0);
  client = new KintoneRestAPIClient({ baseUrl: server.url, auth: { apiToken: "tok" } });
});

afterEach(async () => {
  await server.close();
});

describe("API tokens act as Administrator", () => {
  it("records added and updated with a token show Administrator as creator and modifier", async () => {
    const { id } = await client.record.addRecord({ app: APP, record: { title: { value: "a" } } });
    kintone.editRecord(APP, id, { title: "by sato" }, { user: SATO });
    await client.record.updateRecord({ app: APP, id, record: { title: { value: "b" } } });
    const { record } = await client.record.getRecord({ app: APP, id });
    expect(record.作成者?.value).toEqual(ADMINISTRATOR);
    expect(record.更新者?.value).toEqual(ADMINISTRATOR);
  });

  it("a token may run a status action only when the record has no assignee or Administrator is one (GAIA_NT01)", async () => {
    const { id } = kintone.addRecord(APP);
    // Next status offers two users: the request must name one (GAIA_SA01), and nothing changes.
    const noAssignee = await apiError(client.record.updateRecordStatus({ app: APP, id, action: "Submit" }));
    expect([noAssignee.status, noAssignee.code]).toEqual([400, "GAIA_SA01"]);
    expect(kintone.getRecord(APP, id).ステータス?.value).toBe("Draft");

    await client.record.updateRecordStatus({ app: APP, id, action: "Submit", assignee: "sato" });
    expect(kintone.getRecord(APP, id).作業者?.value).toEqual([SATO]);

    // Sato is the assignee: the token (Administrator) may not act; Suzuki may not either; Sato may.
    const notAssignee = await apiError(client.record.updateRecordStatus({ app: APP, id, action: "Approve" }));
    expect([notAssignee.status, notAssignee.code]).toEqual([400, "GAIA_NT01"]);
    expect(() => kintone.runAction(APP, id, "Approve", { user: SUZUKI })).toThrow(/GAIA_NT01/);
    expect(kintone.getRecord(APP, id)).toMatchObject({ ステータス: { value: "Review" }, $revision: { value: "3" } });
    kintone.runAction(APP, id, "Approve", { user: SATO });

    // Administrator is among the assignees now: the token may act.
    expect(kintone.getRecord(APP, id).作業者?.value).toEqual([ADMINISTRATOR, SATO]);
    await expect(client.record.updateRecordStatus({ app: APP, id, action: "Close" })).resolves.toEqual({ revision: "7" });
    expect(kintone.getRecord(APP, id).作業者?.value).toEqual([]);
  });

  it("the process settings list the assignees", async () => {
    const settings = await client.app.getProcessManagement({ app: APP });
    expect(settings.states?.Review?.assignee).toEqual({
      type: "ONE",
      entities: [
        { entity: { type: "USER", code: "sato" }, includeSubs: false },
        { entity: { type: "USER", code: "suzuki" }, includeSubs: false },
      ],
    });
  });
});

describe("limits", () => {
  it("the 101st concurrent request is refused with 429; every answer carries the concurrency headers", async () => {
    const { id } = kintone.addRecord(APP);
    kintone.delayNext({ path: "/k/v1/record.json" }, { ms: 3000, count: 100 });
    const url = `${server.url}/k/v1/record.json?app=${APP}&id=${id}`;
    const slow = Array.from({ length: 100 }, () => fetch(url, { headers: { "X-Cybozu-API-Token": "tok" } }));
    // All 100 are inside the emulator (recorded, still delayed) before the 101st is sent.
    while (kintone.requests.length < 100) await new Promise((resolve) => setTimeout(resolve, 5));
    const over = await fetch(url, { headers: { "X-Cybozu-API-Token": "tok", "Accept-Language": "ja" } });
    expect(over.status).toBe(429);
    expect(over.headers.get("x-concurrencylimit-limit")).toBe("100");
    expect(over.headers.get("x-concurrencylimit-running")).toBe("101");
    expect(await over.json()).toMatchObject({ code: "GAIA_TO04", message: "APIの同時リクエスト数が上限を超えています。" });
    const answers = await Promise.all(slow);
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 100 }, () => 200));
    expect(answers[0]?.headers.get("x-concurrencylimit-limit")).toBe("100");

    const after = await client.record.getRecord({ app: APP, id });
    expect(after.record.$id?.value).toBe(id);
  });

  it("a comment takes at most 10 mentions", async () => {
    const { id } = kintone.addRecord(APP);
    const mentions = Array.from({ length: 11 }, (_, i) => ({ code: `user${i}`, type: "USER" as const }));
    const error = await apiError(client.record.addRecordComment({ app: APP, record: id, comment: { text: "hi", mentions } }));
    expect([error.status, error.code]).toEqual([400, "CB_VA01"]);
    expect(error.errors).toHaveProperty(["comment.mentions"]);
    await expect(
      client.record.addRecordComment({ app: APP, record: id, comment: { text: "hi", mentions: mentions.slice(0, 10) } }),
    ).resolves.toEqual({ id: "1" });
  });

  it("record ids and revisions must be integers; a stale revision in a bulk update changes nothing", async () => {
    const a = kintone.addRecord(APP, { title: "a" });
    const b = kintone.addRecord(APP, { title: "b" });
    const badId = await apiError(client.record.getRecord({ app: APP, id: "1x" }));
    expect([badId.status, badId.code]).toEqual([400, "CB_VA01"]);
    const badRevision = await apiError(
      client.record.updateRecord({ app: APP, id: a.id, revision: "one", record: { title: { value: "x" } } }),
    );
    expect([badRevision.status, badRevision.code]).toEqual([400, "CB_VA01"]);

    const stale = await apiError(
      client.record.updateRecords({
        app: APP,
        records: [
          { id: a.id, revision: 1, record: { title: { value: "a2" } } },
          { id: b.id, revision: 9, record: { title: { value: "b2" } } },
        ],
      }),
    );
    expect([stale.status, stale.code]).toEqual([409, "GAIA_CO02"]);
    expect(kintone.getRecord(APP, a.id)).toMatchObject({ title: { value: "a" }, $revision: { value: "1" } });
  });

  it("bulk status updates are all-or-nothing and take at most 100 records", async () => {
    const a = kintone.addRecord(APP);
    const b = kintone.addRecord(APP);
    const error = await apiError(
      client.record.updateRecordsStatus({
        app: APP,
        records: [
          { id: a.id, action: "Submit", assignee: "sato" },
          { id: b.id, action: "Close" },
        ],
      }),
    );
    expect([error.status, error.code]).toEqual([400, "GAIA_IL03"]);
    expect(kintone.getRecord(APP, a.id)).toMatchObject({ ステータス: { value: "Draft" }, $revision: { value: "1" } });

    const tooMany = await fetch(`${server.url}/k/v1/records/status.json`, {
      method: "PUT",
      headers: { "X-Cybozu-API-Token": "tok", "Content-Type": "application/json" },
      body: JSON.stringify({ app: APP, records: Array.from({ length: 101 }, () => ({ id: a.id, action: "Submit" })) }),
    });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ code: "CB_VA01", errors: { records: {} } });
  });

  it("deleting records needs the token's delete permission", async () => {
    const { id } = kintone.addRecord(APP);
    const noDelete = new KintoneRestAPIClient({ baseUrl: server.url, auth: { apiToken: "tok-no-delete" } });
    const refused = await apiError(noDelete.record.deleteRecords({ app: APP, ids: [Number(id)] }));
    expect([refused.status, refused.code]).toEqual([403, "GAIA_NO01"]);
    await client.record.deleteRecords({ app: APP, ids: [Number(id)] });
    const gone = await apiError(client.record.getRecord({ app: APP, id }));
    expect(gone.code).toBe("GAIA_RE01");
  });
});

describe("error messages follow Accept-Language", () => {
  const get = (headers: Record<string, string>) =>
    fetch(`${server.url}/k/v1/record.json?app=${APP}`, { headers: { "X-Cybozu-API-Token": "tok", ...headers } });

  it("Japanese for ja, English without the header or for another language", async () => {
    expect(await (await get({ "Accept-Language": "ja" })).json()).toMatchObject({
      code: "CB_VA01",
      message: "入力内容が正しくありません。",
      errors: { id: { messages: ["必須です。"] } },
    });
    expect(await (await get({})).json()).toMatchObject({
      message: "Missing or invalid input.",
      errors: { id: { messages: ["Required field."] } },
    });
    expect(await (await get({ "Accept-Language": "en-US,ja;q=0.8" })).json()).toMatchObject({
      message: "Missing or invalid input.",
    });
    expect(await (await get({ "Accept-Language": "ja-JP,en;q=0.5" })).json()).toMatchObject({
      message: "入力内容が正しくありません。",
    });
  });
});
