import { KintoneRestAPIClient, KintoneRestAPIError } from "@kintone/rest-api-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type KintoneEmulator, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { type RunningServer, listen } from "../../emulators/listen.js";

// Wire-level: the real @kintone/rest-api-client, unchanged, against the emulator over HTTP.

const APP = 1;
const OTHER_APP = 2;
const NO_PROCESS_APP = 3;
const T0 = Date.UTC(2026, 10, 21, 5, 0, 12);

let clock = T0;
let kintone: KintoneEmulator;
let server: RunningServer;

const client = (apiToken: string | string[] = "tok-app1") =>
  new KintoneRestAPIClient({ baseUrl: server.url, auth: { apiToken } });

/** The rejection of `promise`, which must be a KintoneRestAPIError. */
async function apiError(promise: Promise<unknown>): Promise<KintoneRestAPIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KintoneRestAPIError);
  return error as KintoneRestAPIError;
}

beforeAll(async () => {
  kintone = createKintoneEmulator({ now: () => clock });
  kintone.addApp({
    id: APP,
    name: "Orders",
    fields: {
      customer: { type: "SINGLE_LINE_TEXT", code: "customer", label: "Customer" },
      amount: { type: "NUMBER", code: "amount", label: "Amount" },
      due: { type: "DATE", code: "due", label: "Due" },
      ack_at: { type: "DATETIME", code: "ack_at", label: "Acknowledged at" },
      ack_status: {
        type: "DROP_DOWN",
        code: "ack_status",
        label: "Ack",
        options: { Acknowledged: { label: "Acknowledged", index: "0" }, Pending: { label: "Pending", index: "1" } },
      },
      tags: {
        type: "CHECK_BOX",
        code: "tags",
        label: "Tags",
        options: { A: { label: "A", index: "0" }, B: { label: "B", index: "1" } },
      },
      items: {
        type: "SUBTABLE",
        code: "items",
        label: "Items",
        fields: { qty: { type: "NUMBER", code: "qty", label: "Qty" } },
      },
    },
    process: {
      enable: true,
      states: ["Draft", "Approved", "Shipped"],
      actions: [
        { name: "Approve", from: "Draft", to: "Approved" },
        { name: "Ship", from: "Approved", to: "Shipped" },
      ],
    },
    apiTokens: [{ token: "tok-app1" }, { token: "tok-app1-view", permissions: { view: true } }],
  });
  kintone.addApp({ id: OTHER_APP, fields: {}, apiTokens: [{ token: "tok-app2" }] });
  kintone.addApp({ id: NO_PROCESS_APP, fields: {}, apiTokens: [{ token: "tok-app3" }] });
  server = await listen(kintone.app, 0);
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  clock = T0;
});

describe("records", () => {
  it("getRecord returns the full record as kintone does", async () => {
    const { id } = kintone.addRecord(APP, { customer: "ACME", amount: 1200 });
    const { record } = await client().record.getRecord({ app: APP, id });

    expect(record).toMatchObject({
      $id: { type: "__ID__", value: id },
      $revision: { type: "__REVISION__", value: "1" },
      レコード番号: { type: "RECORD_NUMBER", value: id },
      作成者: { type: "CREATOR", value: { code: "Administrator", name: "Administrator" } },
      更新者: { type: "MODIFIER", value: { code: "Administrator", name: "Administrator" } },
      作成日時: { type: "CREATED_TIME", value: "2026-11-21T05:00:00Z" },
      更新日時: { type: "UPDATED_TIME", value: "2026-11-21T05:00:00Z" },
      ステータス: { type: "STATUS", value: "Draft" },
      作業者: { type: "STATUS_ASSIGNEE", value: [] },
      customer: { type: "SINGLE_LINE_TEXT", value: "ACME" },
      amount: { type: "NUMBER", value: "1200" },
      due: { type: "DATE", value: null },
      ack_at: { type: "DATETIME", value: "" },
      ack_status: { type: "DROP_DOWN", value: null },
      tags: { type: "CHECK_BOX", value: [] },
      items: { type: "SUBTABLE", value: [] },
    });
  });

  it("unknown record: 404 GAIA_RE01; unknown app: 404 GAIA_AP01", async () => {
    const missing = await apiError(client().record.getRecord({ app: APP, id: 9999 }));
    expect([missing.status, missing.code]).toEqual([404, "GAIA_RE01"]);
    const noApp = await apiError(client().record.getRecord({ app: 99, id: 1 }));
    expect([noApp.status, noApp.code]).toEqual([404, "GAIA_AP01"]);
  });

  it("updateRecord with the current revision succeeds; a stale one is refused with 409 GAIA_CO02", async () => {
    const { id } = kintone.addRecord(APP, { customer: "ACME" });
    clock = T0 + 5 * 60_000;

    const ok = await client().record.updateRecord({
      app: APP,
      id,
      revision: 1,
      record: {
        ack_status: { value: "Acknowledged" },
        ack_at: { value: "2026-11-21T14:07:45+09:00" },
        amount: { value: " 1.5e3 " },
        items: { value: [{ value: { qty: { value: "2" } } }] },
      },
    });
    expect(ok).toEqual({ revision: "2" });
    const after = kintone.getRecord(APP, id);
    expect(after.ack_status?.value).toBe("Acknowledged");
    expect(after.ack_at?.value).toBe("2026-11-21T05:07:00Z");
    expect(after.amount?.value).toBe("1500");
    expect(after.更新日時?.value).toBe("2026-11-21T05:05:00Z");
    expect(after.items?.value).toEqual([{ id: expect.any(String), value: { qty: { type: "NUMBER", value: "2" } } }]);

    const stale = await apiError(
      client().record.updateRecord({ app: APP, id, revision: 1, record: { customer: { value: "Other" } } }),
    );
    expect([stale.status, stale.code]).toEqual([409, "GAIA_CO02"]);
    expect(kintone.getRecord(APP, id)).toEqual(after);

    // Without a revision (or with -1) there is no check.
    await expect(
      client().record.updateRecord({ app: APP, id, revision: -1, record: { customer: { value: "B" } } }),
    ).resolves.toEqual({ revision: "3" });
  });

  it("staleNextUpdate: another user's save slips in before the next update", async () => {
    const { id } = kintone.addRecord(APP, { customer: "ACME" });
    const { record } = await client().record.getRecord({ app: APP, id });
    kintone.staleNextUpdate(APP, id, { customer: "Changed elsewhere" });

    const error = await apiError(
      client().record.updateRecord({
        app: APP,
        id,
        revision: record.$revision!.value as string,
        record: { ack_status: { value: "Acknowledged" } },
      }),
    );
    expect([error.status, error.code]).toEqual([409, "GAIA_CO02"]);
    const now = kintone.getRecord(APP, id);
    expect(now.$revision?.value).toBe("2");
    expect(now.customer?.value).toBe("Changed elsewhere");
    expect(now.ack_status?.value).toBe(null);
  });

  it("refuses unknown fields, bad values and system fields the way kintone does", async () => {
    const { id } = kintone.addRecord(APP);
    const update = (record: Record<string, { value: unknown }>) =>
      apiError(client().record.updateRecord({ app: APP, id, record: record as never }));

    const unknown = await update({ nope: { value: "x" } });
    expect([unknown.status, unknown.code]).toEqual([400, "GAIA_FC01"]);

    const invalid = await update({
      amount: { value: "12abc" },
      due: { value: "2026-02-30" },
      tags: { value: ["A", "Z"] },
      ack_status: { value: "Maybe" },
      ステータス: { value: "Shipped" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.code).toBe("CB_VA01");
    expect(Object.keys(invalid.errors as object).sort()).toEqual([
      "record.ack_status.value",
      "record.tags.values[1].value",
      "record.ステータス.value",
      "record[amount].value",
      "record[due].value",
    ]);

    const shape = await update({ tags: { value: "A" } });
    expect([shape.status, shape.code]).toEqual([400, "CB_IJ01"]);
    expect(kintone.getRecord(APP, id).$revision?.value).toBe("1");
  });
});

describe("comments", () => {
  it("addRecordComment posts as Administrator when an API token is used", async () => {
    const { id } = kintone.addRecord(APP);
    const first = await client().record.addRecordComment({
      app: APP,
      record: id,
      comment: { text: "Acknowledged on LINE by Taro", mentions: [{ code: "sato", type: "USER" }] },
    });
    expect(first).toEqual({ id: "1" });
    await client().record.addRecordComment({ app: APP, record: id, comment: { text: "second" } });

    expect(kintone.comments(APP, id)).toEqual([
      {
        id: "1",
        text: "Acknowledged on LINE by Taro",
        creator: { code: "Administrator", name: "Administrator" },
        createdAt: "2026-11-21T05:00:00Z",
        mentions: [{ code: "sato", type: "USER" }],
      },
      expect.objectContaining({ id: "2", text: "second" }),
    ]);
    const listed = await client().record.getRecordComments({ app: APP, record: id });
    expect(listed.comments.map((c) => c.id)).toEqual(["2", "1"]);
    expect([listed.older, listed.newer]).toEqual([false, false]);
  });

  it("refuses a comment over 65,535 characters", async () => {
    const { id } = kintone.addRecord(APP);
    const error = await apiError(
      client().record.addRecordComment({ app: APP, record: id, comment: { text: "x".repeat(65_536) } }),
    );
    expect([error.status, error.code]).toEqual([400, "CB_VA01"]);
    expect(error.errors).toHaveProperty(["comment.text"]);
    expect(kintone.comments(APP, id)).toEqual([]);
  });
});

describe("app settings", () => {
  it("getFormFields lists the user fields and kintone's system fields", async () => {
    const { properties, revision } = await client().app.getFormFields({ app: APP });
    expect(revision).toBe("1");
    expect(properties.customer).toEqual({ type: "SINGLE_LINE_TEXT", code: "customer", label: "Customer" });
    expect(properties.items).toMatchObject({ type: "SUBTABLE", fields: { qty: { type: "NUMBER" } } });
    const types = Object.fromEntries(Object.values(properties).map((p) => [p.code, p.type]));
    expect(types).toMatchObject({
      レコード番号: "RECORD_NUMBER",
      作成者: "CREATOR",
      更新者: "MODIFIER",
      作成日時: "CREATED_TIME",
      更新日時: "UPDATED_TIME",
      ステータス: "STATUS",
      作業者: "STATUS_ASSIGNEE",
    });
    expect(properties.ステータス).toMatchObject({ enabled: true });
  });

  it("getProcessManagement returns states and actions", async () => {
    const settings = await client().app.getProcessManagement({ app: APP });
    expect(settings.enable).toBe(true);
    expect(settings.states).toEqual({
      Draft: { name: "Draft", index: "0", assignee: { type: "ONE", entities: [] } },
      Approved: { name: "Approved", index: "1", assignee: { type: "ONE", entities: [] } },
      Shipped: { name: "Shipped", index: "2", assignee: { type: "ONE", entities: [] } },
    });
    expect(settings.actions).toEqual([
      { name: "Approve", from: "Draft", to: "Approved", filterCond: "", type: "PRIMARY" },
      { name: "Ship", from: "Approved", to: "Shipped", filterCond: "", type: "PRIMARY" },
    ]);
    const off = await client("tok-app3").app.getProcessManagement({ app: NO_PROCESS_APP });
    expect(off).toMatchObject({ enable: false, states: null, actions: null });
  });
});

describe("process management", () => {
  it("updateRecordStatus runs an action: status changes, revision +2", async () => {
    const { id } = kintone.addRecord(APP);
    const result = await client().record.updateRecordStatus({ app: APP, id, action: "Approve", revision: 1 });
    expect(result).toEqual({ revision: "3" });
    expect(kintone.getRecord(APP, id).ステータス?.value).toBe("Approved");

    const wrongFrom = await apiError(client().record.updateRecordStatus({ app: APP, id, action: "Approve" }));
    expect([wrongFrom.status, wrongFrom.code]).toEqual([400, "GAIA_IL03"]);

    const stale = await apiError(client().record.updateRecordStatus({ app: APP, id, action: "Ship", revision: 1 }));
    expect([stale.status, stale.code]).toEqual([409, "GAIA_CO02"]);

    const { id: plain } = kintone.addRecord(NO_PROCESS_APP);
    const disabled = await apiError(
      client("tok-app3").record.updateRecordStatus({ app: NO_PROCESS_APP, id: plain, action: "Approve" }),
    );
    expect([disabled.status, disabled.code]).toEqual([400, "GAIA_ST02"]);
  });

  it("runAction (a user in the browser) changes status, revision and update time", async () => {
    const { id } = kintone.addRecord(APP);
    clock = T0 + 60 * 60_000;
    expect(kintone.runAction(APP, id, "Approve", { user: { code: "sato", name: "Sato" } })).toEqual({
      revision: "3",
    });
    const { record } = await client().record.getRecord({ app: APP, id });
    expect(record.ステータス?.value).toBe("Approved");
    expect(record.$revision?.value).toBe("3");
    expect(record.更新日時?.value).toBe("2026-11-21T06:00:00Z");
    expect(record.更新者?.value).toEqual({ code: "sato", name: "Sato" });
    expect(() => kintone.runAction(APP, id, "Approve")).toThrow(/GAIA_IL03/);
  });
});

describe("API tokens", () => {
  it("no token: 401 CB_AU01", async () => {
    const res = await fetch(`${server.url}/k/v1/record.json?app=${APP}&id=1`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "CB_AU01", message: "Please login.", id: expect.any(String) });
  });

  it("an unknown token: 400 GAIA_IA02, also next to a valid one", async () => {
    const { id } = kintone.addRecord(APP);
    for (const token of ["wrong", ["tok-app1", "wrong"]]) {
      const error = await apiError(client(token).record.getRecord({ app: APP, id }));
      expect([error.status, error.code]).toEqual([400, "GAIA_IA02"]);
    }
  });

  it("a token only opens its own app, and only for what it may do", async () => {
    const { id } = kintone.addRecord(APP);
    const otherApp = await apiError(client("tok-app2").record.getRecord({ app: APP, id }));
    expect([otherApp.status, otherApp.code]).toEqual([403, "GAIA_AP15"]);

    await expect(client("tok-app1-view").record.getRecord({ app: APP, id })).resolves.toBeDefined();
    const noEdit = await apiError(
      client("tok-app1-view").record.updateRecord({ app: APP, id, record: { customer: { value: "x" } } }),
    );
    expect([noEdit.status, noEdit.code]).toEqual([403, "GAIA_NO01"]);

    const duplicate = await apiError(client(["tok-app1", "tok-app1-view"]).record.getRecord({ app: APP, id }));
    expect([duplicate.status, duplicate.code]).toEqual([400, "GAIA_DA03"]);

    // One token per app, several apps: fine.
    await expect(client(["tok-app2", "tok-app1"]).record.getRecord({ app: APP, id })).resolves.toBeDefined();
  });
});

describe("fault injection", () => {
  it("failNext answers 503 once, then the API works again", async () => {
    const { id } = kintone.addRecord(APP);
    kintone.failNext({ method: "GET", path: "/k/v1/record.json" }, { status: 503 });
    const error = await apiError(client().record.getRecord({ app: APP, id }));
    expect(error.status).toBe(503);
    await expect(client().record.getRecord({ app: APP, id })).resolves.toBeDefined();
  });

  it("failNext answers 429 with kintone's body shape and the given headers", async () => {
    const { id } = kintone.addRecord(APP);
    kintone.failNext(
      { path: "/k/v1/record.json" },
      { status: 429, code: "CB_TM01", message: "Too many requests.", headers: { "retry-after": "1" } },
    );
    const error = await apiError(
      client().record.updateRecord({ app: APP, id, record: { customer: { value: "x" } } }),
    );
    expect([error.status, error.code, error.headers["retry-after"]]).toEqual([429, "CB_TM01", "1"]);
    expect(kintone.getRecord(APP, id).$revision?.value).toBe("1");
    const last = kintone.requests.at(-1);
    expect(last).toMatchObject({ method: "PUT", path: "/k/v1/record.json", status: 429 });
  });
});
