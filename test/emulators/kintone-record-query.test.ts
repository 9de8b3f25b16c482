/**
 * The kintone emulator's get records and cursor API, driven by the real @kintone/rest-api-client
 * over HTTP: kintone's query language for the operators the relay uses, and refusals where
 * kintone refuses (unknown field, wrong operator for the type, limit over 500, clauses out of order,
 * a cursor query with limit).
 */
import { KintoneRestAPIClient, KintoneRestAPIError } from "@kintone/rest-api-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KintoneEmulator, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { type RunningServer, listen } from "../../emulators/listen.js";

const APP = 1;
let kintone: KintoneEmulator;
let server: RunningServer;
const client = () => new KintoneRestAPIClient({ baseUrl: server.url, auth: { apiToken: "tok-query" } });

beforeAll(async () => {
  kintone = createKintoneEmulator();
  kintone.addApp({
    id: APP,
    name: "Orders",
    fields: {
      customer: { type: "SINGLE_LINE_TEXT", code: "customer", label: "Customer" },
      amount: { type: "NUMBER", code: "amount", label: "Amount" },
      due: { type: "DATE", code: "due", label: "Due" },
      at: { type: "DATETIME", code: "at", label: "At" },
      priority: { type: "DROP_DOWN", code: "priority", label: "Priority", options: { High: { label: "High", index: "0" }, Low: { label: "Low", index: "1" } } },
    },
    apiTokens: [{ token: "tok-query", permissions: { view: true, edit: true, add: true } }],
  });
  for (let i = 1; i <= 620; i++) {
    kintone.addRecord(APP, {
      customer: `C${i}`,
      amount: String(i),
      due: i % 2 === 0 ? "2030-05-02" : "2030-05-03",
      at: i === 1 ? "2030-05-01T15:30:00Z" : "",
      priority: i % 3 === 0 ? "Low" : "High",
    });
  }
  server = await listen(kintone.app);
});
afterAll(async () => {
  await server?.close();
});

const ids = (records: Array<Record<string, { value: unknown }>>) => records.map((r) => Number(r.$id?.value));

async function refusal(promise: Promise<unknown>): Promise<KintoneRestAPIError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(KintoneRestAPIError);
  return error as KintoneRestAPIError;
}

describe("GET /k/v1/records.json", () => {
  it("filters with = != > < >= <= in, not in, and, or, parentheses; sorts; limits; counts", async () => {
    const page = await client().record.getRecords({
      app: APP,
      query: '(due = "2030-05-02" and amount <= 10) or (amount in (11, 13) and priority not in ("Low")) order by amount asc limit 4 offset 1',
      fields: ["$id", "amount"],
      totalCount: true,
    });
    // Matches: 2,4,6,8,10 (even, <= 10) and 11, 13 (neither is a multiple of 3): 7 in all.
    expect(page.totalCount).toBe("7");
    expect(ids(page.records)).toEqual([4, 6, 8, 10]);
    expect(Object.keys(page.records[0] ?? {}).sort()).toEqual(["$id", "amount"]);
    const gt = await client().record.getRecords({ app: APP, query: 'amount > 615 and amount != 618 and customer = "C617"' });
    expect(ids(gt.records)).toEqual([617]);
    const datetime = await client().record.getRecords({ app: APP, query: 'at >= "2030-05-01T15:00:00Z" and at < "2030-05-02T15:00:00Z"' });
    expect(ids(datetime.records)).toEqual([1]);
    const newestFirst = await client().record.getRecords({ app: APP, query: "limit 2" });
    expect(ids(newestFirst.records)).toEqual([620, 619]);
  });

  it("getAllRecords pages past 500 with $id seeks", async () => {
    const all = await client().record.getAllRecords({ app: APP, condition: 'due = "2030-05-03"' });
    expect(all).toHaveLength(310);
    const seeks = kintone.requests.filter((r) => r.path === "/k/v1/records.json" && String(r.query.query).includes("$id >"));
    expect(seeks.length).toBeGreaterThan(0);
  });

  it("refuses what kintone refuses", async () => {
    expect((await refusal(client().record.getRecords({ app: APP, query: 'nope = "x"' }))).code).toBe("GAIA_IQ11");
    expect((await refusal(client().record.getRecords({ app: APP, query: 'priority = "High"' }))).code).toBe("GAIA_IQ11");
    expect((await refusal(client().record.getRecords({ app: APP, query: "limit 501" }))).code).toBe("CB_VA01");
    expect((await refusal(client().record.getRecords({ app: APP, query: "limit 10 order by amount asc" }))).code).toBe("GAIA_IQ11");
    expect((await refusal(client().record.getRecords({ app: APP, query: 'amount > "1" or' }))).code).toBe("GAIA_IQ11");
  });
});

describe("cursor API", () => {
  it("creates a cursor, reads it page by page until next is false, and refuses limit in its query and a spent cursor", async () => {
    const { id, totalCount } = await client().record.createCursor({ app: APP, query: 'priority in ("Low") order by $id asc', size: 100 });
    expect(totalCount).toBe("206");
    const first = await client().record.getRecordsByCursor({ id });
    expect(first.records).toHaveLength(100);
    expect(first.next).toBe(true);
    await client().record.getRecordsByCursor({ id });
    const last = await client().record.getRecordsByCursor({ id });
    expect(last.records).toHaveLength(6);
    expect(last.next).toBe(false);
    expect((await refusal(client().record.getRecordsByCursor({ id }))).status).toBe(404);

    expect((await refusal(client().record.createCursor({ app: APP, query: "limit 10" }))).code).toBe("GAIA_IQ11");
    const other = await client().record.createCursor({ app: APP, query: "" });
    await client().record.deleteCursor({ id: other.id });
    expect((await refusal(client().record.getRecordsByCursor({ id: other.id }))).status).toBe(404);
  });
});
