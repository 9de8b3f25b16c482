/**
 * The `kintone` global of the page emulator (runs in the browser; served compiled, as a classic
 * script, before the plugin's scripts). It keeps to the documented behaviour of the JS API the
 * plugin uses; anything else is absent, so that a call to it fails loudly.
 *
 * The page server passes `window.__KINTONE_EMU__`. Saved proxy configs never reach record pages;
 * the settings page reads them (admin session) because kintone's getProxyConfig does.
 *
 * Each API is offered only on the screens its cybozu.dev page lists under 利用できる画面 (the
 * overview says every API page names them: https://cybozu.dev/ja/kintone/docs/js-api/overview/kintone-js-api-overview).
 * A call elsewhere throws, and is reported to the page server (`refusedCalls`) so that a test sees
 * it even when the plugin swallows the error.
 */
export {};

interface EmuBoot {
  page: "desktop" | "mobile" | "config";
  appId: number;
  recordId: string | null;
  pluginId: string;
  loginUser: Record<string, string>;
  config: Record<string, string>;
  scripts: string[];
  adminToken?: string;
}

interface KintoneField {
  type: string;
  value: unknown;
}
type KRecord = Record<string, KintoneField>;
type EventHandler = (event: Record<string, unknown>) => unknown;
interface ProcessAction {
  name: string;
  from: string;
  to: string;
}
interface ProxyConfig {
  url: string;
  method: string;
  headers: Record<string, string>;
  data: Record<string, string>;
}

const boot = (window as unknown as { __KINTONE_EMU__: EmuBoot }).__KINTONE_EMU__;
const handlers = new Map<string, EventHandler[]>();
let config: Record<string, string> = { ...boot.config };
let proxyConfigs: ProxyConfig[] = [];
let record: KRecord | null = null;
let actions: ProcessAction[] = [];
const firedEvents: string[] = [];

function adminHeaders(): Record<string, string> {
  return boot.adminToken ? { "x-emu-admin": boot.adminToken } : {};
}

/** Reports a call made where kintone does not offer the API (fire and forget). */
function reportRefused(name: string): void {
  void fetch("/__emu/refused", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appId: boot.appId, page: boot.page, api: name }),
  }).catch(() => undefined);
}

function requirePage(allowed: EmuBoot["page"][], name: string): void {
  if (allowed.includes(boot.page)) return;
  reportRefused(name);
  throw new Error(`${name} is not available on this page`);
}

type ProxyAnswer = [string, number, Record<string, string>];
type SuccessCallback = (body: string, status: number, headers: Record<string, string>) => void;
type FailureCallback = (body: string) => void;

/**
 * Both proxies' documented calling conventions: with a success callback, nothing is returned and
 * the callbacks get the answer; without, a promise of [body, status, headers] that rejects with
 * the proxy's response body (a string) when the request could not be made.
 */
function settle(
  answer: Promise<ProxyAnswer>,
  onSuccess?: SuccessCallback,
  onFailure?: FailureCallback,
): Promise<ProxyAnswer> | undefined {
  if (!onSuccess) return answer;
  answer.then(([body, status, headers]) => onSuccess(body, status, headers), (body: unknown) => onFailure?.(String(body)));
  return undefined;
}

async function forward(endpoint: string, request: Record<string, unknown>): Promise<ProxyAnswer> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...adminHeaders() },
    body: JSON.stringify({ appId: boot.appId, page: boot.page, ...request }),
  });
  const answer = (await response.json()) as { ok: boolean; body: string; status: number; headers: Record<string, string> };
  if (!answer.ok) throw answer.body;
  return [answer.body, answer.status, answer.headers];
}

async function fireEvent(type: string, event: Record<string, unknown>): Promise<Record<string, unknown>> {
  firedEvents.push(type);
  let current = event;
  for (const handler of handlers.get(type) ?? []) {
    const result = await Promise.resolve(handler(current));
    if (result && typeof result === "object") current = result as Record<string, unknown>;
  }
  return current;
}

async function api(pathOrUrl: string, method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const url = new URL(pathOrUrl, location.origin);
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (method === "GET" || method === "DELETE") {
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  } else {
    init.body = JSON.stringify(params);
  }
  const response = await fetch(url.pathname + url.search, init);
  const body: unknown = await response.json().catch(() => ({}));
  if (!response.ok) throw body;
  return body;
}
api.url = (path: string, _detectGuestSpace?: boolean): string => `${location.origin}${path}.json`;

/**
 * kintone.plugin.app.proxy: the page server adds the plugin's saved headers and data. Offered on
 * record list, detail, add, edit, print and graph screens (PC and mobile), not on the plugin's
 * settings page: https://cybozu.dev/ja/kintone/docs/js-api/plugins/kintone-plug-in-proxy/ (利用できる画面).
 * What kintone does when it is called there anyway is not documented; throwing is the strict choice.
 */
function pluginProxy(
  pluginId: string,
  url: string,
  method: string,
  headers: Record<string, string>,
  data: unknown,
  onSuccess?: SuccessCallback,
  onFailure?: FailureCallback,
): Promise<ProxyAnswer> | undefined {
  requirePage(["desktop", "mobile"], "kintone.plugin.app.proxy");
  return settle(forward("/__emu/proxy", { pluginId, url, method, headers, data }), onSuccess, onFailure);
}

/**
 * kintone.proxy: the generic external call. It sends what the browser passes and nothing else
 * (no saved headers or data: https://cybozu.dev/ja/kintone/docs/js-api/proxy/kintone-proxy/).
 * That page lists no 利用できる画面 restriction (PC/モバイル), so every page here offers it,
 * the plugin's settings page included.
 */
function kintoneProxy(
  url: string,
  method: string,
  headers: Record<string, string>,
  data: unknown,
  onSuccess?: SuccessCallback,
  onFailure?: FailureCallback,
): Promise<ProxyAnswer> | undefined {
  return settle(forward("/__emu/kintone-proxy", { url, method, headers, data }), onSuccess, onFailure);
}

/**
 * A save kintone did not complete. kintone's setConfig and setProxyConfig take only a
 * successCallback, "called after the settings have been successfully saved", and no failure
 * callback; arguments kintone refuses throw at the call instead (see the checks above):
 * https://cybozu.dev/ja/kintone/docs/js-api/plugins/set-config/
 * https://kintone.dev/en/docs/kintone/js-api/plugins/set-config/
 * https://cybozu.dev/ja/kintone/docs/js-api/plugins/set-config-for-proxy/
 * So a failed save calls nothing back and throws nothing into the page; it is only logged.
 */
function saveFailed(api: string, detail: string): void {
  console.warn(`${api}: the save failed on kintone's side: ${detail}`);
}

function pluginApi() {
  return {
    getConfig: (pluginId: string) => (pluginId === boot.pluginId ? { ...config } : null),
    // Settings page only: https://cybozu.dev/ja/kintone/docs/js-api/plugins/set-config/ (利用できる画面)
    setConfig: (next: Record<string, unknown>, callback?: () => void) => {
      requirePage(["config"], "kintone.plugin.app.setConfig");
      for (const [key, value] of Object.entries(next)) {
        if (typeof value !== "string") throw new Error(`setConfig: the value of "${key}" must be a string`);
      }
      void fetch("/__emu/admin/config", {
        method: "POST",
        headers: { "content-type": "application/json", ...adminHeaders() },
        body: JSON.stringify({ appId: boot.appId, pluginId: boot.pluginId, config: next }),
      }).then(
        async (response) => {
          if (!response.ok) return saveFailed("kintone.plugin.app.setConfig", await response.text());
          config = { ...(next as Record<string, string>) };
          callback?.();
        },
        (error: unknown) => saveFailed("kintone.plugin.app.setConfig", String(error)),
      );
    },
    // Settings page only; elsewhere kintone returns null rather than throwing, and null also
    // when nothing was saved for that URL and method:
    // https://kintone.dev/en/docs/kintone/js-api/plugin/proxy-get-config/ ("null is returned for pages where it cannot be used")
    // https://cybozu.dev/ja/kintone/docs/js-api/plugins/get-config-for-proxy/ (利用できる画面: プラグインごとの設定画面)
    getProxyConfig: (url: string, method: string) => {
      if (boot.page !== "config") {
        reportRefused("kintone.plugin.app.getProxyConfig");
        return null;
      }
      const found = proxyConfigs.find((p) => p.url === url && p.method === String(method).toUpperCase());
      return found ? { headers: { ...found.headers }, data: { ...found.data } } : null;
    },
    setProxyConfig: (
      url: string,
      method: string,
      headers: Record<string, unknown>,
      data: Record<string, unknown>,
      callback?: () => void,
    ) => {
      // Settings page only: https://cybozu.dev/ja/kintone/docs/js-api/plugins/set-config-for-proxy/ (利用できる画面: 各プラグインの設定画面)
      requirePage(["config"], "kintone.plugin.app.setProxyConfig");
      for (const [key, value] of Object.entries(data ?? {})) {
        if (typeof value === "object" && value !== null) throw new Error(`setProxyConfig: data "${key}" must not be an object`);
      }
      void fetch("/__emu/admin/proxy-config", {
        method: "POST",
        headers: { "content-type": "application/json", ...adminHeaders() },
        body: JSON.stringify({ appId: boot.appId, pluginId: boot.pluginId, url, method, headers, data }),
      }).then(
        async (response) => {
          if (!response.ok) return saveFailed("kintone.plugin.app.setProxyConfig", await response.text());
          proxyConfigs = ((await response.json()) as { proxyConfigs: ProxyConfig[] }).proxyConfigs;
          callback?.();
        },
        (error: unknown) => saveFailed("kintone.plugin.app.setProxyConfig", String(error)),
      );
    },
    proxy: pluginProxy,
  };
}

function recordApi(page: "desktop" | "mobile") {
  return {
    getId: () => (boot.page === page && boot.recordId ? Number(boot.recordId) : null),
    get: () => (boot.page === page && record ? { record: structuredClone(record) } : null),
    getHeaderMenuSpaceElement: () => document.getElementById("emu-header-menu-space"),
  };
}

const kintoneGlobal = {
  $PLUGIN_ID: boot.pluginId,
  events: {
    on(type: string | string[], handler: EventHandler) {
      for (const t of Array.isArray(type) ? type : [type]) handlers.set(t, [...(handlers.get(t) ?? []), handler]);
    },
    off(type?: string | string[], handler?: EventHandler) {
      if (type === undefined) handlers.clear();
      for (const t of type === undefined ? [] : Array.isArray(type) ? type : [type]) {
        handlers.set(t, handler ? (handlers.get(t) ?? []).filter((h) => h !== handler) : []);
      }
      return true;
    },
  },
  api,
  proxy: kintoneProxy,
  getLoginUser: () => ({ ...boot.loginUser }),
  app: {
    getId: () => (boot.page === "mobile" ? null : boot.appId),
    record: recordApi("desktop"),
  },
  mobile: {
    app: {
      getId: () => (boot.page === "mobile" ? boot.appId : null),
      record: recordApi("mobile"),
      getHeaderSpaceElement: () => (boot.page === "mobile" ? document.getElementById("emu-header-menu-space") : null),
    },
  },
  plugin: { app: pluginApi() },
};
(window as unknown as { kintone: typeof kintoneGlobal }).kintone = kintoneGlobal;

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.body.append(script);
  });
}

function statusOf(r: KRecord): string {
  const status = Object.values(r).find((f) => f.type === "STATUS");
  return typeof status?.value === "string" ? status.value : "";
}

function renderRecord(): void {
  const table = document.getElementById("emu-record");
  const buttons = document.getElementById("emu-actions");
  if (!table || !buttons || !record) return;
  table.replaceChildren();
  for (const [code, field] of Object.entries(record)) {
    const row = document.createElement("tr");
    row.dataset.field = code;
    const name = document.createElement("th");
    name.textContent = code;
    const value = document.createElement("td");
    value.textContent = typeof field.value === "string" ? field.value : JSON.stringify(field.value);
    row.append(name, value);
    table.append(row);
  }
  const current = statusOf(record);
  const recordId = document.getElementById("emu-record-id");
  if (recordId) recordId.textContent = boot.recordId ?? "";
  const status = document.getElementById("emu-status");
  if (status) status.textContent = current;
  buttons.replaceChildren();
  for (const action of actions.filter((a) => a.from === current)) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "emu-action";
    button.dataset.action = action.name;
    button.textContent = action.name;
    button.addEventListener("click", () => void runAction(action.name));
    buttons.append(button);
  }
}

async function loadRecord(): Promise<void> {
  const body = (await api("/k/v1/record.json", "GET", { app: boot.appId, id: boot.recordId })) as { record: KRecord };
  record = body.record;
  renderRecord();
}

function eventPrefix(): string {
  return boot.page === "mobile" ? "mobile." : "";
}

async function showRecord(): Promise<void> {
  await loadRecord();
  await fireEvent(`${eventPrefix()}app.record.detail.show`, {
    type: `${eventPrefix()}app.record.detail.show`,
    appId: boot.appId,
    recordId: Number(boot.recordId),
    record: structuredClone(record),
  });
}

/** What a user clicking a process-management action button causes. */
async function runAction(name: string): Promise<{ cancelled: boolean; error?: string; status: string }> {
  if (!record) throw new Error("no record loaded");
  const current = statusOf(record);
  const action = actions.find((a) => a.name === name && a.from === current);
  if (!action) throw new Error(`no action "${name}" from status "${current}"`);
  const errorBox = document.getElementById("emu-error");
  if (errorBox) errorBox.textContent = "";
  const type = `${eventPrefix()}app.record.detail.process.proceed`;
  const result = await fireEvent(type, {
    type,
    appId: boot.appId,
    recordId: Number(boot.recordId),
    record: structuredClone(record),
    action: { value: action.name },
    status: { value: action.from },
    nextStatus: { value: action.to },
  });
  if (typeof result.error === "string" && result.error !== "") {
    if (errorBox) errorBox.textContent = result.error;
    return { cancelled: true, error: result.error, status: current };
  }
  await api("/k/v1/record/status.json", "PUT", { app: boot.appId, id: boot.recordId, action: action.name });
  await showRecord();
  return { cancelled: false, status: record ? statusOf(record) : "" };
}

async function start(): Promise<void> {
  if (document.readyState === "loading") {
    await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  }
  if (boot.page === "config") {
    const response = await fetch(`/__emu/admin/proxy-config?appId=${boot.appId}&pluginId=${boot.pluginId}`, {
      headers: adminHeaders(),
    });
    proxyConfigs = ((await response.json()) as { proxyConfigs: ProxyConfig[] }).proxyConfigs;
  }
  for (const src of boot.scripts) await loadScript(src);
  if (boot.page === "config") return;
  const status = (await api("/k/v1/app/status.json", "GET", { app: boot.appId })) as { actions?: ProcessAction[] | null };
  actions = status.actions ?? [];
  await showRecord();
}

const ready = start();
(window as unknown as { __kintoneEmu: unknown }).__kintoneEmu = {
  ready,
  runAction,
  firedEvents,
  reloadRecord: showRecord,
};
