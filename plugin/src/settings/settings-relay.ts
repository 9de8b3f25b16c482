/**
 * How the settings page reaches the relay. kintone.plugin.app.proxy is not offered on this page
 * (https://cybozu.dev/ja/kintone/docs/js-api/plugins/kintone-plug-in-proxy/, 利用できる画面), so
 * the page uses kintone.proxy, which sends only what the page passes
 * (https://cybozu.dev/ja/kintone/docs/js-api/proxy/kintone-proxy/): the secret goes in the
 * Authorization header here, and the rule set in the body. Only admins open this page, and the
 * secret is one they typed or one getProxyConfig already hands them.
 */
import type { ProxyFn, SettingsHost } from "../host";
import { proxyPrefix } from "../plugin-config";
import { RelayClient } from "../relay-client";

/** The secret "Test connection" and Save use: the one typed on screen, else the saved one. */
export function currentAuthorization(host: SettingsHost, typedSecret: string, savedRelayUrl: string | null): string | null {
  const typed = typedSecret.trim();
  if (typed) return `Bearer ${typed}`;
  if (!savedRelayUrl) return null;
  return host.getProxyConfig(proxyPrefix(savedRelayUrl), "POST")?.headers?.Authorization ?? null;
}

/** A RelayClient over kintone.proxy that sends `authorization` with every call. */
export function settingsRelayClient(host: SettingsHost, relayUrl: string, authorization: string, timeoutMs: number): RelayClient {
  const proxy: ProxyFn = (url, method, headers, data) => {
    const withSecret: Record<string, string> = {};
    for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() !== "authorization") withSecret[key] = value;
    withSecret.Authorization = authorization;
    return host.kintoneProxy(url, method, withSecret, data);
  };
  return new RelayClient(proxy, relayUrl, timeoutMs);
}
