/**
 * The browser side of the kintone emulator: serves a record detail page (PC and mobile) and the
 * plugin's settings page for an app, with the plugin's scripts taken from the built plugin zip,
 * and a `kintone` global (browser/kintone-global.ts) backed by this server:
 *
 * - `kintone.api` -> forwarded to the kintone REST emulator with the app's API token;
 * - `setConfig` / `setProxyConfig` -> stored here (settings page only: it holds an admin token);
 * - `kintone.plugin.app.proxy` (record pages only) -> this server adds the saved headers and data
 *   of the config whose URL is a prefix of the call's URL for the same method (longest prefix
 *   wins; saved values win over the browser's on a key conflict), forwards the request, and
 *   records what it sent;
 * - `kintone.proxy` (every page) -> forwarded with exactly what the browser passed, and recorded;
 * - a JS API called on a page kintone does not offer it on -> recorded in `refusedCalls`.
 *
 * It never listens itself: serve `app` with emulators/listen.ts.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import ts from "typescript";
import type { PluginPackage } from "./plugin-zip.js";
import { readPluginZip } from "./plugin-zip.js";

export interface LoginUser {
  id: string;
  code: string;
  name: string;
  email: string;
  language: string;
  timezone: string;
}

export interface KintonePageOptions {
  /** The built plugin (dist/plugin.zip). */
  pluginZip: Buffer;
  /** Base URL of the kintone REST emulator. */
  kintoneUrl: string;
  /** API token the pages' kintone.api calls use (kintone itself would use the user's session). */
  apiToken: string;
  loginUser?: Partial<LoginUser>;
  /** How long the proxy waits for the target before answering 504 (kintone's limit is UNCONFIRMED). */
  proxyTimeoutMs?: number;
}

export interface SavedProxyConfig {
  url: string;
  method: string;
  headers: Record<string, string>;
  data: Record<string, string>;
}

export type PageKind = "desktop" | "mobile" | "config";

/** One proxy call as it left for the target (for `kintone.plugin.app.proxy`: after injection). */
export interface ProxyCall {
  api: "kintone.plugin.app.proxy" | "kintone.proxy";
  /** The page it was made on. */
  page: PageKind;
  appId: number;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  status: number;
  at: number;
}

export interface RefusedCall {
  api: string;
  page: PageKind;
  appId: number;
  at: number;
}

export interface KintonePageEmulator {
  readonly app: Hono;
  readonly plugin: PluginPackage;
  readonly pluginId: string;
  readonly proxyCalls: ProxyCall[];
  /** JS API calls made on a page kintone does not offer them on (each one also threw, or returned null, in the page). */
  readonly refusedCalls: RefusedCall[];
  loginUser: LoginUser;
  /** Saved plugin config of an app (what getConfig returns). */
  config(appId: number): Record<string, string>;
  /** Saved proxy configs of an app (server side only; tests may read them). */
  proxyConfigs(appId: number): SavedProxyConfig[];
  /** Test control: what an admin's setConfig would store. */
  saveConfig(appId: number, config: Record<string, string>): void;
  /** Test control: what an admin's setProxyConfig would store (empty headers and data delete). */
  saveProxyConfig(appId: number, entry: SavedProxyConfig): void;
  /**
   * Test control: the next `count` (default 1) calls of this API on the settings page fail on
   * kintone's side: nothing is stored and the success callback is never called (kintone offers no
   * failure callback). Each failure is listed in `failedSaves`.
   */
  failNextSave(api: "setConfig" | "setProxyConfig", count?: number): void;
  readonly failedSaves: Array<{ api: "setConfig" | "setProxyConfig"; appId: number; at: number }>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** browser/kintone-global.ts, compiled once to a classic script. */
function compileBrowserScript(): string {
  const source = readFileSync(path.join(here, "browser", "kintone-global.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, removeComments: false },
  });
  return `(() => {\n${outputText.replace(/^export \{\};?\s*$/m, "")}\n})();\n`;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** JSON safe to put inside a <script> element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c");

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

const PAGE_CSS = `
body { font-family: "Helvetica Neue", Arial, "Hiragino Kaku Gothic ProN", Meiryo, sans-serif; margin: 0; background: #f5f5f5; color: #333; }
.emu-bar { background: #fff; border-bottom: 1px solid #e3e7e8; padding: 8px 16px; display: flex; gap: 16px; align-items: center; }
.emu-main { padding: 16px; }
#emu-record { background: #fff; border-collapse: collapse; margin-top: 12px; }
#emu-record th, #emu-record td { border: 1px solid #e3e7e8; padding: 4px 8px; text-align: left; font-size: 13px; }
#emu-error { color: #e74c3c; font-weight: bold; min-height: 1em; }
.emu-action { background: #1d6fa5; color: #fff; border: 0; padding: 6px 16px; cursor: pointer; }
`;

export function createKintonePageEmulator(options: KintonePageOptions): KintonePageEmulator {
  const plugin = readPluginZip(options.pluginZip);
  const browserScript = compileBrowserScript();
  const adminToken = randomBytes(16).toString("hex");
  const configs = new Map<number, Record<string, string>>();
  const proxyConfigs = new Map<number, SavedProxyConfig[]>();
  const proxyCalls: ProxyCall[] = [];
  const refusedCalls: RefusedCall[] = [];
  const saveFailures = { setConfig: 0, setProxyConfig: 0 };
  const failedSaves: KintonePageEmulator["failedSaves"] = [];
  const proxyTimeoutMs = options.proxyTimeoutMs ?? 30_000;
  const kintoneUrl = options.kintoneUrl.replace(/\/+$/, "");
  const emulator: KintonePageEmulator = {
    app: new Hono(),
    plugin,
    pluginId: plugin.id,
    proxyCalls,
    refusedCalls,
    loginUser: {
      id: "1",
      code: "Administrator",
      name: "Administrator",
      email: "admin@example.com",
      language: "en",
      timezone: "Asia/Tokyo",
      ...options.loginUser,
    },
    config: (appId) => ({ ...(configs.get(appId) ?? {}) }),
    proxyConfigs: (appId) => structuredClone(proxyConfigs.get(appId) ?? []),
    saveConfig: (appId, config) => {
      configs.set(appId, { ...config });
    },
    saveProxyConfig: (appId, entry) => {
      storeProxyConfig(appId, entry);
    },
    failNextSave: (api, count = 1) => {
      saveFailures[api] += count;
    },
    failedSaves,
  };

  /** An armed failNextSave: 500, nothing stored. */
  function takeSaveFailure(api: "setConfig" | "setProxyConfig", appId: number): boolean {
    if (saveFailures[api] === 0) return false;
    saveFailures[api] -= 1;
    failedSaves.push({ api, appId, at: Date.now() });
    return true;
  }

  function storeProxyConfig(appId: number, entry: SavedProxyConfig): SavedProxyConfig[] {
    const method = entry.method.toUpperCase();
    const list = (proxyConfigs.get(appId) ?? []).filter((p) => !(p.url === entry.url && p.method === method));
    // Empty headers and data delete the entry (getProxyConfig then returns null, as kintone's does).
    if (Object.keys(entry.headers).length > 0 || Object.keys(entry.data).length > 0) {
      list.push({ url: entry.url, method, headers: { ...entry.headers }, data: { ...entry.data } });
    }
    proxyConfigs.set(appId, list);
    return list;
  }
  const app = emulator.app;

  const fileUrl = (file: string): string => `/__emu/plugin/${plugin.id}/${file}`;

  function page(kind: PageKind, appId: number, recordId: string | null): string {
    const manifest = plugin.manifest;
    const part = kind === "config" ? manifest.config : manifest[kind];
    const css = (part?.css ?? []).map((f) => `<link rel="stylesheet" href="${escapeHtml(/^https?:/.test(f) ? f : fileUrl(f))}">`);
    const scripts = (part?.js ?? []).map((f) => (/^https?:/.test(f) ? f : fileUrl(f)));
    const boot = {
      page: kind,
      appId,
      recordId,
      pluginId: plugin.id,
      loginUser: emulator.loginUser,
      config: configs.get(appId) ?? {},
      scripts,
      ...(kind === "config" ? { adminToken } : {}),
    };
    const configHtml =
      kind === "config" && manifest.config?.html ? (plugin.files.get(manifest.config.html)?.toString("utf8") ?? "") : "";
    const body =
      kind === "config"
        ? `<div class="emu-bar"><strong>App ${appId}</strong> › Plugin settings</div><div class="emu-main" id="emu-plugin-config">${configHtml}</div>`
        : `<div class="emu-bar"><strong>App ${appId}</strong> › Record <span id="emu-record-id"></span>
  <span>Status: <span id="emu-status"></span></span><span id="emu-actions"></span></div>
<div class="emu-main"><div id="emu-header-menu-space"></div><div id="emu-error" role="alert"></div><table id="emu-record"></table></div>`;
    return `<!doctype html>
<html lang="${escapeHtml(emulator.loginUser.language)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kintone page emulator</title>
<link rel="icon" href="data:,">
<style>${PAGE_CSS}</style>
${css.join("\n")}
<script>window.__KINTONE_EMU__ = ${scriptJson(boot)};</script>
<script src="/__emu/kintone.js"></script>
</head><body class="emu-${kind}">
${body}
</body></html>`;
  }

  const appIdOf = (value: string | undefined): number | null => (value && /^\d+$/.test(value) ? Number(value) : null);

  app.get("/k/:app/show", (c) => {
    const appId = appIdOf(c.req.param("app"));
    if (appId === null) return c.text("not found", 404);
    // kintone's own URL carries the record in the hash (#record=1); ?record=1 works here too.
    return c.html(page("desktop", appId, c.req.query("record") ?? "__HASH__"));
  });
  app.get("/k/m/:app/show", (c) => {
    const appId = appIdOf(c.req.param("app"));
    const recordId = c.req.query("record");
    if (appId === null || !recordId) return c.text("not found", 404);
    return c.html(page("mobile", appId, recordId));
  });
  app.get("/k/admin/app/:app/plugin/config", (c) => {
    const appId = appIdOf(c.req.param("app"));
    if (appId === null || c.req.query("pluginId") !== plugin.id) return c.text("not found", 404);
    return c.html(page("config", appId, null));
  });

  app.get("/__emu/kintone.js", (c) => {
    // Desktop record pages name the record in the hash; resolve it before anything else runs.
    const prelude = `(() => { const b = window.__KINTONE_EMU__; if (b.recordId === "__HASH__") {
  const m = /record=(\\d+)/.exec(location.hash); b.recordId = m ? m[1] : null; } })();\n`;
    return c.body(prelude + browserScript, 200, { "content-type": CONTENT_TYPES[".js"] ?? "text/javascript" });
  });

  app.get("/__emu/plugin/:id/*", (c) => {
    const prefix = `/__emu/plugin/${plugin.id}/`;
    const url = new URL(c.req.url);
    if (!url.pathname.startsWith(prefix)) return c.text("not found", 404);
    const file = decodeURIComponent(url.pathname.slice(prefix.length));
    const content = plugin.files.get(file);
    if (!content) return c.text("not found", 404);
    return c.body(new Uint8Array(content), 200, {
      "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
    });
  });

  // --- Settings page (admin) ---------------------------------------------------------------
  const isAdmin = (header: string | undefined): boolean => header === adminToken;

  app.get("/__emu/admin/proxy-config", (c) => {
    if (!isAdmin(c.req.header("x-emu-admin"))) return c.json({ message: "settings page only" }, 403);
    const appId = appIdOf(c.req.query("appId")) ?? 0;
    return c.json({ proxyConfigs: proxyConfigs.get(appId) ?? [] });
  });

  app.post("/__emu/admin/config", async (c) => {
    if (!isAdmin(c.req.header("x-emu-admin"))) return c.json({ message: "settings page only" }, 403);
    const body = await c.req.json<{ appId: number; config: Record<string, unknown> }>();
    if (takeSaveFailure("setConfig", body.appId)) return c.json({ message: "setConfig failed (failNextSave)" }, 500);
    const next: Record<string, string> = {};
    let total = 0;
    for (const [key, value] of Object.entries(body.config ?? {})) {
      if (typeof value !== "string") return c.json({ message: `value of ${key} must be a string` }, 400);
      if (value.length > 65_535) return c.json({ message: `value of ${key} is over 65,535 characters` }, 400);
      total += key.length + value.length;
      next[key] = value;
    }
    if (total > 256 * 1024) return c.json({ message: "config is over 256 KB" }, 400);
    configs.set(body.appId, next);
    return c.json({});
  });

  app.post("/__emu/admin/proxy-config", async (c) => {
    if (!isAdmin(c.req.header("x-emu-admin"))) return c.json({ message: "settings page only" }, 403);
    const body = await c.req.json<{ appId: number; url: string; method: string; headers?: Record<string, unknown>; data?: Record<string, unknown> }>();
    if (takeSaveFailure("setProxyConfig", body.appId)) return c.json({ message: "setProxyConfig failed (failNextSave)" }, 500);
    const method = String(body.method).toUpperCase();
    if (!["GET", "POST", "PUT", "DELETE"].includes(method)) return c.json({ message: "bad method" }, 400);
    const headers = Object.fromEntries(Object.entries(body.headers ?? {}).map(([k, v]) => [k, String(v)]));
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(body.data ?? {})) {
      if (typeof value === "object" && value !== null) return c.json({ message: `data ${key} must not be an object` }, 400);
      data[key] = value as string;
    }
    return c.json({ proxyConfigs: storeProxyConfig(body.appId, { url: String(body.url), method, headers, data }) });
  });

  // --- Proxies ---------------------------------------------------------------------------------
  const pageKindOf = (value: unknown): PageKind | null =>
    value === "desktop" || value === "mobile" || value === "config" ? value : null;

  /** The request body as it leaves: only POST and PUT carry `data` (both proxies' pages say so). */
  function bodyOf(method: string, data: unknown, saved: Record<string, string>): string | null {
    if (method !== "POST" && method !== "PUT") return null;
    let value: unknown = data ?? {};
    if (typeof value === "string" && Object.keys(saved).length > 0) {
      try {
        value = JSON.parse(value);
      } catch {
        // A non-JSON string body goes as is: there is nothing to merge it with.
      }
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return JSON.stringify({ ...(value as Record<string, unknown>), ...saved });
    }
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  async function send(call: ProxyCall): Promise<{ ok: boolean; body: string; status: number; headers: Record<string, string> }> {
    proxyCalls.push(call);
    try {
      const response = await fetch(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body,
        signal: AbortSignal.timeout(proxyTimeoutMs),
      });
      const text = await response.text();
      call.status = response.status;
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        responseHeaders[key] = value;
      });
      return { ok: true, body: text, status: response.status, headers: responseHeaders };
    } catch (error) {
      // The target is down or too slow: the promise is rejected with a message body.
      const message = error instanceof Error && error.name === "TimeoutError" ? "timeout" : "connection failed";
      return { ok: false, body: JSON.stringify({ message: `proxy: ${message}` }), status: 0, headers: {} };
    }
  }

  interface ProxyRequest {
    appId: number;
    page?: string;
    pluginId?: string;
    url: string;
    method: string;
    headers?: Record<string, string>;
    data?: unknown;
  }

  const stringHeaders = (headers: Record<string, unknown> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));

  // kintone.plugin.app.proxy: record pages only (the settings page is not among its 利用できる画面:
  // https://cybozu.dev/ja/kintone/docs/js-api/plugins/kintone-plug-in-proxy/). The browser side
  // throws first; this refuses a call that names the settings page or carries its admin session.
  app.post("/__emu/proxy", async (c) => {
    const request = await c.req.json<ProxyRequest>();
    const page = pageKindOf(request.page);
    if (page === null || page === "config" || c.req.header("x-emu-admin") !== undefined) {
      refusedCalls.push({ api: "kintone.plugin.app.proxy", page: page ?? "config", appId: request.appId, at: Date.now() });
      return c.json({ ok: false, body: JSON.stringify({ message: "kintone.plugin.app.proxy is not available on this page" }), status: 0, headers: {} });
    }
    if (request.pluginId !== plugin.id) return c.json({ ok: false, body: "unknown plugin", status: 0, headers: {} });
    const method = String(request.method).toUpperCase();
    const saved = (proxyConfigs.get(request.appId) ?? [])
      .filter((p) => p.method === method && request.url.startsWith(p.url))
      .sort((a, b) => b.url.length - a.url.length)[0];

    const headers = stringHeaders(request.headers);
    for (const [key, value] of Object.entries(saved?.headers ?? {})) {
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === key.toLowerCase()) delete headers[existing];
      headers[key] = value;
    }
    const body = bodyOf(method, request.data, saved?.data ?? {});
    if (body !== null && !Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
    return c.json(
      await send({ api: "kintone.plugin.app.proxy", page, appId: request.appId, url: request.url, method, headers, body, status: 0, at: Date.now() }),
    );
  });

  // kintone.proxy: sends what the browser passed, nothing saved is added
  // (https://cybozu.dev/ja/kintone/docs/js-api/proxy/kintone-proxy/); no screen restriction is listed.
  app.post("/__emu/kintone-proxy", async (c) => {
    const request = await c.req.json<ProxyRequest>();
    const method = String(request.method).toUpperCase();
    if (!["GET", "POST", "PUT", "DELETE"].includes(method)) {
      return c.json({ ok: false, body: JSON.stringify({ message: `proxy: method ${method} is not supported` }), status: 0, headers: {} });
    }
    const page = pageKindOf(request.page) ?? "desktop";
    const headers = stringHeaders(request.headers);
    const body = bodyOf(method, request.data, {});
    return c.json(await send({ api: "kintone.proxy", page, appId: request.appId, url: request.url, method, headers, body, status: 0, at: Date.now() }));
  });

  app.post("/__emu/refused", async (c) => {
    const body = await c.req.json<{ appId: number; page: string; api: string }>();
    refusedCalls.push({ api: String(body.api), page: pageKindOf(body.page) ?? "desktop", appId: Number(body.appId), at: Date.now() });
    return c.json({});
  });

  // --- kintone.api -> REST emulator ---------------------------------------------------------
  app.all("/k/v1/*", async (c) => {
    const url = new URL(c.req.url);
    const headers: Record<string, string> = { "X-Cybozu-API-Token": options.apiToken };
    const init: RequestInit = { method: c.req.method, headers };
    if (c.req.method !== "GET" && c.req.method !== "DELETE") {
      headers["Content-Type"] = "application/json";
      init.body = await c.req.text();
    }
    const response = await fetch(`${kintoneUrl}${url.pathname}${url.search}`, init);
    return c.body(await response.text(), response.status as 200, {
      "content-type": response.headers.get("content-type") ?? "application/json",
    });
  });

  return emulator;
}
