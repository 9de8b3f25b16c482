/**
 * The `kintone` global of the page emulator (runs in the browser; served compiled, as a classic
 * script, before the plugin's scripts). It keeps to the documented behaviour of the JS API the
 * plugin uses; anything else is absent, so that a call to it fails loudly.
 *
 * The page server passes `window.__KINTONE_EMU__`. Saved proxy configs never reach record pages;
 * the settings page reads them (admin session) because kintone's getProxyConfig does.
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

function requirePage(allowed: EmuBoot["page"][], name: string): void {
  if (!allowed.includes(boot.page)) throw new Error(`${name} is not available on this page`);
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

async function proxy(
  pluginId: string,
  url: string,
  method: string,
  headers: Record<string, string>,
  data: unknown,
): Promise<[string, number, Record<string, string>]> {
  requirePage(["desktop", "mobile", "config"], "kintone.plugin.app.proxy");
  const response = await fetch("/__emu/proxy", {
    method: "POST",
    headers: { "content-type": "application/json", ...adminHeaders() },
    body: JSON.stringify({ appId: boot.appId, pluginId, url, method, headers, data }),
  });
  const answer = (await response.json()) as { ok: boolean; body: string; status: number; headers: Record<string, string> };
  if (!answer.ok) throw answer.body;
  return [answer.body, answer.status, answer.headers];
}

function pluginApi() {
  return {
    getConfig: (pluginId: string) => (pluginId === boot.pluginId ? { ...config } : null),
    setConfig: (next: Record<string, unknown>, callback?: () => void) => {
      requirePage(["config"], "kintone.plugin.app.setConfig");
      for (const [key, value] of Object.entries(next)) {
        if (typeof value !== "string") throw new Error(`setConfig: the value of "${key}" must be a string`);
      }
      void fetch("/__emu/admin/config", {
        method: "POST",
        headers: { "content-type": "application/json", ...adminHeaders() },
        body: JSON.stringify({ appId: boot.appId, pluginId: boot.pluginId, config: next }),
      }).then(async (response) => {
        if (!response.ok) throw new Error(await response.text());
        config = { ...(next as Record<string, string>) };
        callback?.();
      });
    },
    getProxyConfig: (url: string, method: string) => {
      requirePage(["config"], "kintone.plugin.app.getProxyConfig");
      const found = proxyConfigs.find((p) => p.url === url && p.method === method);
      return found ? { headers: { ...found.headers }, data: { ...found.data } } : null;
    },
    setProxyConfig: (
      url: string,
      method: string,
      headers: Record<string, unknown>,
      data: Record<string, unknown>,
      callback?: () => void,
    ) => {
      requirePage(["config"], "kintone.plugin.app.setProxyConfig");
      for (const [key, value] of Object.entries(data ?? {})) {
        if (typeof value === "object" && value !== null) throw new Error(`setProxyConfig: data "${key}" must not be an object`);
      }
      void fetch("/__emu/admin/proxy-config", {
        method: "POST",
        headers: { "content-type": "application/json", ...adminHeaders() },
        body: JSON.stringify({ appId: boot.appId, pluginId: boot.pluginId, url, method, headers, data }),
      }).then(async (response) => {
        if (!response.ok) throw new Error(await response.text());
        proxyConfigs = ((await response.json()) as { proxyConfigs: ProxyConfig[] }).proxyConfigs;
        callback?.();
      });
    },
    proxy,
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
