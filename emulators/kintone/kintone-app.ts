import type { Context } from "hono";
import { Hono } from "hono";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Permission } from "./api-token-auth.js";
import {
  CONCURRENCY_LIMIT,
  KintoneApiError,
  type Locale,
  appNotFound,
  featureNotEmulated,
  invalidInput,
  invalidJson,
  localeOf,
  newErrorId,
  notEmulated,
  tooManyConcurrentRequests,
} from "./errors.js";
import type { FaultInjector } from "./faults.js";
import type { KintoneUser } from "./field-values.js";
import { type KintoneStore, checkUserMaySetSystemFields } from "./kintone-store.js";
import type { OAuthServer } from "./oauth.js";
import { type LoginSessions, registerOAuthRoutes } from "./oauth-routes.js";
import type { RecordWebhooks } from "./record-webhooks.js";
import { RecordCursors } from "./record-cursors.js";
import { cursorRecords, getRecords } from "./record-search.js";
import { type Actor, type RouteScope, authenticate, requireAppPermission, requireScope } from "./user-auth.js";

/**
 * kintone's REST endpoints over a KintoneStore. Requests are taken the three ways
 * @kintone/rest-api-client and kintone.api() send them: GET with a query string, GET with a JSON
 * body, and POST with `X-HTTP-Method-Override: GET` (rest-api-client's form for URLs over 4 KB).
 * They act as "Administrator" with an API token, or as the user with an OAuth token (user-auth.ts).
 * The same app serves cybozu.com's login stand-in and OAuth endpoints (oauth-routes.ts), which are
 * not recorded in `requests`.
 */

export interface RecordedRequest {
  /** The HTTP method as sent. */
  method: string;
  /** After X-HTTP-Method-Override. */
  effectiveMethod: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON; the raw text when it is not JSON; undefined when there is none. */
  body: unknown;
  status: number;
  at: number;
  /** Who the request acted as, once its credentials were accepted. */
  actor?: { method: "apiToken" | "oauth"; user: string; clientId?: string };
}

export interface KintoneAppDeps {
  store: KintoneStore;
  faults: FaultInjector;
  /** Every request is appended, in arrival order; its status is filled in when answered. */
  requests: RecordedRequest[];
  now: () => number;
  /** Webhooks for operations on one record; the bulk routes never touch it. */
  webhooks: RecordWebhooks;
  oauth: OAuthServer;
  sessions: LoginSessions;
}

type Params = Record<string, unknown>;

interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  /** What an API token must allow. */
  permission: Permission;
  /** What an OAuth token must carry. */
  scope: RouteScope;
  run(params: Params, appId: number, actor: Actor): unknown;
  /** The app of a request that names none (a cursor's GET and DELETE name only the cursor). */
  appOf?(params: Params): number;
}

/**
 * Who changed the record: with an API token kintone shows "Administrator" as creator, modifier and
 * comment poster (https://cybozu.dev/ja/kintone/docs/rest-api/records/add-comment/:
 * "APIトークンを利用した場合、投稿ユーザーは「Administrator」になります。"); with an OAuth token, the
 * user who authorized it, as for anything that user does (Add Record without 作成者 sets the creator
 * to them; comments and status actions are theirs).
 */
const byActor = (actor: Actor): KintoneUser => actor.user;

const READ: RouteScope = "k:app_record:read";
const WRITE: RouteScope = "k:app_record:write";
const SETTINGS_READ: RouteScope = "k:app_settings:read";
/** The author of the edit staleNextUpdate() slips in. */
const CONCURRENT_USER = { code: "concurrent-editor", name: "Concurrent Editor" };
const MAX_COMMENTS_PER_PAGE = 10;
/** records.json and records/status.json take at most 100 records (cybozu.dev "複数のレコードを…"). */
const MAX_BULK_RECORDS = 100;

export function createKintoneApp(deps: KintoneAppDeps): Hono {
  const { store, faults, webhooks } = deps;
  const cursors = new RecordCursors(deps.now);

  /** Applies the edit armed by staleNextUpdate(), as if another user saved just before. */
  const applyConcurrentEdit = (appId: number, recordId: number) => {
    const values = faults.takeStale(appId, recordId);
    if (values) store.updateRecord(appId, recordId, wrapValues(values), undefined, CONCURRENT_USER);
  };

  const routes: Route[] = [
    {
      method: "GET",
      path: "/k/v1/record.json",
      permission: "view",
      scope: READ,
      run: (p, app) => ({ record: store.getRecord(app, integerParam(p, "id")) }),
    },
    {
      method: "POST",
      path: "/k/v1/record.json",
      permission: "add",
      scope: WRITE,
      run: (p, app, actor) => {
        if (actor.method === "oauth") checkUserMaySetSystemFields(store, app, p.record, actor.user);
        const added = store.addRecord(app, p.record, byActor(actor));
        webhooks.record(app, "ADD_RECORD", added.id);
        return added;
      },
    },
    {
      method: "PUT",
      path: "/k/v1/record.json",
      permission: "edit",
      scope: WRITE,
      run: (p, app, actor) => {
        const id = integerParam(p, "id");
        const revision = optionalIntegerParam(p, "revision");
        store.getRecord(app, id);
        applyConcurrentEdit(app, id);
        const updated = store.updateRecord(app, id, p.record, revision, byActor(actor));
        webhooks.record(app, "UPDATE_RECORD", String(id));
        return updated;
      },
    },
    {
      method: "PUT",
      path: "/k/v1/record/status.json",
      permission: "view",
      scope: WRITE,
      run: (p, app, actor) => {
        const id = integerParam(p, "id");
        const action = stringParam(p, "action");
        const revision = optionalIntegerParam(p, "revision");
        store.getRecord(app, id);
        applyConcurrentEdit(app, id);
        const result = store.runAction(app, id, action, byActor(actor), revision, optionalStringParam(p, "assignee"));
        // An ALL step that leaves others to act changes no status: no "ステータスの更新" webhook (UNCONFIRMED).
        if (result.moved) webhooks.record(app, "UPDATE_STATUS", String(id));
        return { revision: result.revision };
      },
    },
    {
      method: "POST",
      path: "/k/v1/record/comment.json",
      permission: "view",
      scope: WRITE,
      run: (p, app, actor) => {
        const record = integerParam(p, "record");
        const added = store.addComment(app, record, p.comment, byActor(actor));
        webhooks.comment(app, String(record), added.id);
        return added;
      },
    },
    // Bulk APIs: all-or-nothing, and no webhooks (see webhooks.ts).
    {
      method: "POST",
      path: "/k/v1/records.json",
      permission: "add",
      scope: WRITE,
      run: (p, app, actor) => {
        const items = bulkList(p, "records");
        if (actor.method === "oauth") items.forEach((record) => checkUserMaySetSystemFields(store, app, record, actor.user));
        return store.atomically(app, () => {
          const added = items.map((record, i) => prefixed(i, () => store.addRecord(app, record, byActor(actor))));
          return { ids: added.map((a) => a.id), revisions: added.map((a) => a.revision) };
        });
      },
    },
    {
      method: "PUT",
      path: "/k/v1/records.json",
      permission: "edit",
      scope: WRITE,
      run: (p, app, actor) => {
        const items = bulkList(p, "records").map((item, i) => bulkItem(item, i));
        return store.atomically(app, () => ({
          records: items.map((item, i) =>
            prefixed(i, () => {
              if (item.updateKey !== undefined) throw featureNotEmulated("updateKey");
              const id = integerParam(item, "id");
              const updated = store.updateRecord(app, id, item.record, optionalIntegerParam(item, "revision"), byActor(actor));
              return { id: String(id), revision: updated.revision };
            }),
          ),
        }));
      },
    },
    {
      method: "DELETE",
      path: "/k/v1/records.json",
      permission: "delete",
      scope: WRITE,
      run: (p, app) => {
        const ids = bulkList(p, "ids");
        const revisions = p.revisions === undefined ? [] : bulkList(p, "revisions");
        if (revisions.length > 0 && revisions.length !== ids.length) {
          throw invalidInput({ revisions: { messages: ["The number of revisions must match the number of ids."] } });
        }
        store.atomically(app, () =>
          ids.forEach((_, i) => {
            const id = integerParam({ id: ids[i] }, "id");
            store.deleteRecord(app, id, optionalIntegerParam({ revision: revisions[i] }, "revision"));
          }),
        );
        return {};
      },
    },
    {
      method: "PUT",
      path: "/k/v1/records/status.json",
      permission: "view",
      scope: WRITE,
      run: (p, app, actor) => {
        const items = bulkList(p, "records").map((item, i) => bulkItem(item, i));
        return store.atomically(app, () => ({
          records: items.map((item, i) =>
            prefixed(i, () => {
              const id = integerParam(item, "id");
              const result = store.runAction(
                app,
                id,
                stringParam(item, "action"),
                byActor(actor),
                optionalIntegerParam(item, "revision"),
                optionalStringParam(item, "assignee"),
              );
              return { id: String(id), revision: result.revision };
            }),
          ),
        }));
      },
    },
    // Get records, and the cursor API (record-query.ts has the query language, record-cursors.ts the cursor rules).
    {
      method: "GET",
      path: "/k/v1/records.json",
      permission: "view",
      scope: READ,
      run: (p, app) => getRecords(store, app, p, deps.now()),
    },
    {
      method: "POST",
      path: "/k/v1/records/cursor.json",
      permission: "view",
      scope: READ,
      run: (p, app) => cursors.create(app, cursorRecords(store, app, p, deps.now()), optionalIntegerParam(p, "size")),
    },
    {
      method: "GET",
      path: "/k/v1/records/cursor.json",
      permission: "view",
      scope: READ,
      appOf: (p) => cursors.appOf(stringParam(p, "id")),
      run: (p) => cursors.next(stringParam(p, "id")),
    },
    {
      method: "DELETE",
      path: "/k/v1/records/cursor.json",
      permission: "view",
      scope: READ,
      appOf: (p) => cursors.appOf(stringParam(p, "id")),
      run: (p) => {
        cursors.delete(stringParam(p, "id"));
        return {};
      },
    },
    {
      method: "GET",
      path: "/k/v1/record/comments.json",
      permission: "view",
      scope: READ,
      run: (p, app) => listComments(store, app, p),
    },
    {
      method: "GET",
      path: "/k/v1/app/form/fields.json",
      permission: "viewOrAdd",
      scope: SETTINGS_READ,
      run: (_p, app) => store.formFields(app),
    },
    {
      method: "GET",
      path: "/k/v1/app/status.json",
      permission: "viewOrAdd",
      scope: SETTINGS_READ,
      run: (_p, app) => store.processSettings(app),
    },
  ];

  /** Requests being answered now: kintone refuses the 101st (CONCURRENCY_LIMIT, errors.ts). */
  let running = 0;

  const answer = async (req: ParsedRequest, entry: RecordedRequest): Promise<Response> => {
    const delay = faults.takeDelay(req.effectiveMethod, req.path);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const failure = faults.takeFailure(req.effectiveMethod, req.path);
    if (failure) throw failure;

    const route = routes.find((r) => r.method === req.effectiveMethod && r.path === req.path);
    if (!route) throw notEmulated(req.effectiveMethod, req.path);
    const actor = authenticate(store, deps.oauth, req.headers);
    entry.actor = {
      method: actor.method,
      user: actor.user.code,
      ...(actor.method === "oauth" ? { clientId: actor.clientId } : {}),
    };
    if (req.bodyIsInvalid) throw invalidJson();
    requireScope(actor, route.scope);
    const appId = route.appOf ? route.appOf(req.params) : integerParam(req.params, "app");
    if (!store.hasApp(appId)) throw appNotFound(appId);
    requireAppPermission(actor, appId, route.permission);
    return jsonResponse(200, route.run(req.params, appId, actor), concurrencyHeaders(running));
  };

  const app = new Hono();
  registerOAuthRoutes(app, { store, oauth: deps.oauth, sessions: deps.sessions });
  app.all("*", async (c) => {
    const req = await readRequest(c);
    const entry: RecordedRequest = {
      method: req.method,
      effectiveMethod: req.effectiveMethod,
      path: req.path,
      query: req.query,
      headers: req.headers,
      body: req.body,
      status: 0,
      at: deps.now(),
    };
    deps.requests.push(entry);
    const locale = localeOf(req.headers["accept-language"]);
    if (running >= CONCURRENCY_LIMIT) {
      const refused = errorResponse(tooManyConcurrentRequests(running + 1), locale, running + 1);
      entry.status = refused.status;
      return refused;
    }
    running += 1;
    try {
      const response = await answer(req, entry).catch((error: unknown) => errorResponse(error, locale, running));
      entry.status = response.status;
      const drop = response.ok ? faults.takeDropAfterCommit(req.effectiveMethod, req.path) : undefined;
      if (!drop) return response;
      await drop.onCommitted?.();
      return dropConnection(c);
    } finally {
      running -= 1;
    }
  });
  return app;
}

/** Closes the socket without an answer (faults.dropAfterCommitNext). */
function dropConnection(c: Context): Promise<Response> | Response {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing) return Response.error(); // app.request in tests: no socket to close
  outgoing.socket?.destroy();
  outgoing.destroy();
  // Nothing can be written any more; leave the adapter waiting instead of logging a write error.
  return new Promise<Response>(() => {});
}

/** The one place errors become HTTP answers: kintone's `{code, id, message, errors?}`, in the request's language. */
function errorResponse(error: unknown, locale: Locale, running: number): Response {
  if (error instanceof KintoneApiError) {
    return jsonResponse(error.status, error.toBody(locale), { ...concurrencyHeaders(running), ...error.headers });
  }
  const message = error instanceof Error ? error.message : String(error);
  return jsonResponse(500, { code: "EMULATOR_INTERNAL", id: newErrorId(), message }, concurrencyHeaders(running));
}

function concurrencyHeaders(running: number): Record<string, string> {
  return { "x-concurrencylimit-limit": String(CONCURRENCY_LIMIT), "x-concurrencylimit-running": String(running) };
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

// --- Reading requests ---------------------------------------------------------------------------

interface ParsedRequest extends Omit<RecordedRequest, "status" | "at"> {
  bodyIsInvalid: boolean;
  /** Query string and JSON body together (the body wins). */
  params: Params;
}

async function readRequest(c: Context): Promise<ParsedRequest> {
  const url = new URL(c.req.url);
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const method = c.req.method.toUpperCase();
  const override = headers["x-http-method-override"]?.toUpperCase();
  const effectiveMethod = method === "POST" && override ? override : method;
  const query = Object.fromEntries(url.searchParams);

  const text = await readBodyText(c, method, headers);
  let body: unknown;
  let bodyIsInvalid = false;
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
      bodyIsInvalid = true;
    }
  }
  const bodyParams = isObject(body) ? body : {};
  return {
    method,
    effectiveMethod,
    path: url.pathname,
    query,
    headers,
    body,
    bodyIsInvalid,
    params: { ...queryParams(url.searchParams), ...bodyParams },
  };
}

/**
 * The fetch Request of a GET carries no body, but kintone takes JSON bodies on GET. Under
 * @hono/node-server the untouched Node request is in `c.env.incoming`: read the body from there.
 */
async function readBodyText(c: Context, method: string, headers: Record<string, string>): Promise<string> {
  if (method !== "GET" && method !== "HEAD") return c.req.text();
  const declaresBody = Number(headers["content-length"] ?? 0) > 0 || headers["transfer-encoding"] !== undefined;
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!declaresBody || !incoming || incoming.readableEnded) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The query string as parameters; `ids[0]=1&ids[1]=2` (how rest-api-client's qs writes arrays, e.g.
 * for Delete Records) becomes `ids: ["1", "2"]`.
 */
function queryParams(search: URLSearchParams): Params {
  const params: Params = {};
  const arrays = new Map<string, string[]>();
  for (const [key, value] of search) {
    const indexed = /^(.+)\[(\d+)\]$/.exec(key);
    if (!indexed) {
      params[key] = value;
      continue;
    }
    const [, name = "", index = "0"] = indexed;
    const list = arrays.get(name) ?? [];
    list[Number(index)] = value;
    arrays.set(name, list);
  }
  for (const [name, list] of arrays) params[name] = Array.from(list, (v) => v ?? "");
  return params;
}

function isObject(v: unknown): v is Params {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// --- Parameters ---------------------------------------------------------------------------------

function optionalIntegerParam(params: Params, name: string): number | undefined {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === "") return undefined;
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw invalidInput({ [name]: { messages: ["Enter an integer value."] } });
  return n;
}

function integerParam(params: Params, name: string): number {
  const n = optionalIntegerParam(params, name);
  if (n === undefined) throw invalidInput({ [name]: { messages: ["Required field."] } });
  return n;
}

function optionalStringParam(params: Params, name: string): string | undefined {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") throw invalidInput({ [name]: { messages: ["Enter a string."] } });
  return raw;
}

/** The array parameter of a bulk API: required, 1 to 100 entries. */
function bulkList(params: Params, name: string): unknown[] {
  const raw = params[name];
  if (!Array.isArray(raw) || raw.length === 0) throw invalidInput({ [name]: { messages: ["Required field."] } });
  if (raw.length > MAX_BULK_RECORDS) {
    throw invalidInput({ [name]: { messages: [`Only up to ${MAX_BULK_RECORDS} records can be specified.`] } });
  }
  return raw;
}

function bulkItem(item: unknown, index: number): Params {
  if (!isObject(item)) throw invalidInput({ [`records[${index}]`]: { messages: ["Required field."] } });
  return item;
}

/** Runs one entry of a bulk request; its validation errors are keyed `records[i].…` as kintone keys them. */
function prefixed<T>(index: number, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof KintoneApiError) throw error.withErrorPrefix(`records[${index}].`);
    throw error;
  }
}

function stringParam(params: Params, name: string): string {
  const raw = params[name];
  if (typeof raw !== "string" || raw === "") throw invalidInput({ [name]: { messages: ["Required field."] } });
  return raw;
}

/** Raw field values -> the `{code: {value}}` form of a record in a request. */
export function wrapValues(values: Record<string, unknown>): Record<string, { value: unknown }> {
  return Object.fromEntries(Object.entries(values).map(([code, value]) => [code, { value }]));
}

/** Get Comments: newest first by default, at most 10 a page, with `older` / `newer` flags. */
function listComments(store: KintoneStore, appId: number, p: Params): unknown {
  const all = store.comments(appId, integerParam(p, "record"));
  const order = p.order === undefined ? "desc" : p.order;
  if (order !== "asc" && order !== "desc") throw invalidInput({ order: { messages: ["must be one of the enum value"] } });
  const offset = optionalIntegerParam(p, "offset") ?? 0;
  const limit = optionalIntegerParam(p, "limit") ?? MAX_COMMENTS_PER_PAGE;
  if (offset < 0) throw invalidInput({ offset: { messages: ["must be greater than or equal to 0"] } });
  if (limit < 1 || limit > MAX_COMMENTS_PER_PAGE) {
    throw invalidInput({ limit: { messages: [`must be less than or equal to ${MAX_COMMENTS_PER_PAGE}`] } });
  }
  const sorted = order === "desc" ? [...all].reverse() : all;
  const page = sorted.slice(offset, offset + limit);
  const beyond = offset + limit < sorted.length;
  const before = offset > 0;
  return {
    comments: page,
    older: order === "desc" ? beyond : before,
    newer: order === "desc" ? before : beyond,
  };
}
