import type { KintoneRecord } from "../../common/kintone/record.js";
import { invalidInput } from "./errors.js";
import type { KintoneStore } from "./kintone-store.js";
import { DEFAULT_LIMIT, type ParsedQuery, type QueryContext, checkQuery, matchesQuery, parseQuery, queryError, sortRecords } from "./record-query.js";

/** Reads `fields` (array of field codes, or absent) the way get records takes it. */
export function fieldsParam(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.some((code) => typeof code !== "string")) {
    throw invalidInput({ fields: { messages: ["Enter an array of field codes."] } });
  }
  return raw as string[];
}

function queryContext(store: KintoneStore, appId: number, now: number): QueryContext {
  const types: Record<string, string> = { $id: "__ID__", $revision: "__REVISION__" };
  for (const [code, prop] of Object.entries(store.formFields(appId).properties)) {
    const type = (prop as { type?: unknown }).type;
    if (typeof type === "string") types[code] = type;
  }
  return { types, today: new Date(now).toISOString().slice(0, 10) };
}

function project(record: KintoneRecord, fields: string[] | undefined): KintoneRecord {
  if (!fields || fields.length === 0) return record;
  return Object.fromEntries(Object.entries(record).filter(([code]) => fields.includes(code)));
}

/** The records a query selects, sorted, before limit/offset. */
function select(store: KintoneStore, appId: number, query: ParsedQuery, now: number): KintoneRecord[] {
  const context = queryContext(store, appId, now);
  checkQuery(query, context);
  const matching = store.listRecords(appId).filter((record) => matchesQuery(record, query.where, context));
  return sortRecords(matching, query, context);
}

/** GET /k/v1/records.json: `{records, totalCount}` (totalCount null unless asked for). */
export function getRecords(store: KintoneStore, appId: number, params: Record<string, unknown>, now: number) {
  const raw = params.query ?? "";
  if (typeof raw !== "string") throw invalidInput({ query: { messages: ["Enter a string."] } });
  const query = parseQuery(raw);
  const selected = select(store, appId, query, now);
  const offset = query.offset ?? 0;
  const page = selected.slice(offset, offset + (query.limit ?? DEFAULT_LIMIT));
  const fields = fieldsParam(params.fields);
  const wantsCount = params.totalCount === true || params.totalCount === "true";
  return { records: page.map((record) => project(record, fields)), totalCount: wantsCount ? String(selected.length) : null };
}

/** The records of a new cursor: a query without limit or offset (add-cursor refuses them). */
export function cursorRecords(store: KintoneStore, appId: number, params: Record<string, unknown>, now: number): KintoneRecord[] {
  const raw = params.query ?? "";
  if (typeof raw !== "string") throw invalidInput({ query: { messages: ["Enter a string."] } });
  const query = parseQuery(raw);
  if (query.limit !== undefined || query.offset !== undefined) {
    throw queryError("A cursor's query cannot hold limit or offset.", "カーソルのクエリにlimitとoffsetは指定できません。");
  }
  const fields = fieldsParam(params.fields);
  return select(store, appId, query, now).map((record) => project(record, fields));
}
