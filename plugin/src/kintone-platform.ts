/// <reference types="@kintone/dts-gen/kintone" />
/**
 * The one module that touches the `kintone` global. Everything else receives a host object.
 */
import type { ProcessProceedEvent, ProxyConfig, ProxyFn, RecordPageHost, RecordShowEvent, SettingsHost } from "./host";

function pluginId(): string {
  return kintone.$PLUGIN_ID;
}

function language(): string {
  return kintone.getLoginUser().language;
}

const proxy: ProxyFn = (url, method, headers, data) =>
  kintone.plugin.app.proxy(pluginId(), url, method, headers, data) as Promise<[string, number, Record<string, string>]>;

/** kintone.proxy: the generic external call, which adds no saved headers or data. */
const kintoneProxy: ProxyFn = (url, method, headers, data) =>
  kintone.proxy(url, method, headers, data) as Promise<[string, number, Record<string, string>]>;

function getConfig(): Record<string, string> {
  return (kintone.plugin.app.getConfig(pluginId()) ?? {}) as Record<string, string>;
}

export function createRecordPageHost(mobile: boolean): RecordPageHost {
  const prefix = mobile ? "mobile." : "";
  return {
    pluginId: pluginId(),
    language: language(),
    timeZone: kintone.getLoginUser().timezone,
    mobile,
    getConfig,
    proxy,
    appId: () => (mobile ? kintone.mobile.app.getId() : kintone.app.getId()),
    onProcessProceed: (handler) =>
      kintone.events.on(`${prefix}app.record.detail.process.proceed`, (event: ProcessProceedEvent) => handler(event)),
    onRecordShow: (handler) => kintone.events.on(`${prefix}app.record.detail.show`, (event: RecordShowEvent) => handler(event)),
    headerSpace: () =>
      mobile ? kintone.mobile.app.getHeaderSpaceElement() : kintone.app.record.getHeaderMenuSpaceElement(),
  };
}

/** How long a save may take before the page reports it as failed. */
const SAVE_CONFIRM_MS = 10_000;

/**
 * kintone's setConfig / setProxyConfig call back only on success and have no failure callback
 * (https://cybozu.dev/ja/kintone/docs/js-api/plugins/set-config/): a save that fails on kintone's
 * side is seen here only as a callback that never comes, so it rejects after SAVE_CONFIRM_MS.
 * Arguments kintone refuses throw at the call, which rejects at once.
 */
function confirmedSave(api: string, call: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${api}: no confirmation from kintone after ${SAVE_CONFIRM_MS / 1000} s`)), SAVE_CONFIRM_MS);
    try {
      call(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch (error) {
      clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

export function createSettingsHost(): SettingsHost {
  return {
    pluginId: pluginId(),
    language: language(),
    timeZone: kintone.getLoginUser().timezone,
    appId: () => kintone.app.getId(),
    getConfig,
    setConfig: (config) => confirmedSave("setConfig", (done) => kintone.plugin.app.setConfig(config, done)),
    getProxyConfig: (url, method) => (kintone.plugin.app.getProxyConfig(url, method) ?? null) as ProxyConfig | null,
    setProxyConfig: (url, method, headers, data) =>
      confirmedSave("setProxyConfig", (done) => kintone.plugin.app.setProxyConfig(url, method, headers, data, done)),
    kintoneProxy,
    api: <T>(path: string, method: "GET", params: Record<string, unknown>) =>
      kintone.api(kintone.api.url(path, true), method, params) as Promise<T>,
  };
}
