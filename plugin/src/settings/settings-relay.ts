/**
 * How the settings page reaches the relay. kintone.plugin.app.proxy is not offered on this page
 * (https://cybozu.dev/ja/kintone/docs/js-api/plugins/kintone-plug-in-proxy/, 利用できる画面), so
 * the page uses kintone.proxy, which sends only what the page passes
 * (https://cybozu.dev/ja/kintone/docs/js-api/proxy/kintone-proxy/): the app key goes in the
 * Authorization header here, with X-Relay-App, and the rule set in the body. Only admins open
 * this page, and the key is one they typed or one getProxyConfig already hands them.
 */
import type { ProxyFn, SettingsHost } from "../host";
import { proxyPrefix } from "../plugin-config";
import { RelayClient } from "../relay-client";

/** The app key "Test connection" and Save use: the one typed on screen, else the saved one. */
export function currentAuthorization(host: SettingsHost, typedSecret: string, savedRelayUrl: string | null): string | null {
  const typed = typedSecret.trim();
  if (typed) return `Bearer ${typed}`;
  if (!savedRelayUrl) return null;
  return host.getProxyConfig(proxyPrefix(savedRelayUrl), "POST")?.headers?.Authorization ?? null;
}

/**
 * A RelayClient over kintone.proxy that sends `authorization` and `X-Relay-App: <appId>` with every
 * call: what the saved proxy config makes kintone's server send for the record pages.
 */
export function settingsRelayClient(
  host: SettingsHost,
  relayUrl: string,
  authorization: string,
  appId: string,
  timeoutMs: number,
): RelayClient {
  const proxy: ProxyFn = (url, method, headers, data) => {
    const withKey: Record<string, string> = {};
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() !== "authorization" && key.toLowerCase() !== "x-relay-app") withKey[key] = value;
    }
    withKey.Authorization = authorization;
    withKey["X-Relay-App"] = appId;
    return host.kintoneProxy(url, method, withKey, data);
  };
  return new RelayClient(proxy, relayUrl, timeoutMs);
}
