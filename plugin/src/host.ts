/**
 * What the plugin needs from kintone, as plain values and promises. The real implementation is
 * kintone-platform.ts (the only module that touches the `kintone` global); tests pass fakes.
 */

/** `kintone.plugin.app.proxy` / `kintone.proxy` answer: [body, status, headers]. */
export type ProxyResponse = [string, number, Record<string, string>];

export type ProxyFn = (
  url: string,
  method: "GET" | "POST" | "PUT" | "DELETE",
  headers: Record<string, string>,
  data: Record<string, unknown> | string,
) => Promise<ProxyResponse>;

export interface ProxyConfig {
  headers: Record<string, string>;
  data: Record<string, string>;
}

/** A process-management event as kintone passes it (the parts the plugin reads). */
export interface ProcessProceedEvent {
  type: string;
  appId?: number | string;
  recordId?: number | string;
  record: Record<string, { type: string; value: unknown }>;
  action: { value: string };
  status: { value: string };
  nextStatus: { value: string };
  error?: string;
}

export interface RecordShowEvent {
  type: string;
  appId?: number | string;
  recordId?: number | string;
  record: Record<string, { type: string; value: unknown }>;
}

/** Everything kintone gives the record pages (desktop and mobile). */
export interface RecordPageHost {
  pluginId: string;
  language: string;
  /** The user's kintone time zone: date-only conditions on date-time fields are read in it. */
  timeZone: string;
  mobile: boolean;
  getConfig(): Record<string, string>;
  proxy: ProxyFn;
  appId(): number | null;
  onProcessProceed(handler: (event: ProcessProceedEvent) => ProcessProceedEvent | Promise<ProcessProceedEvent>): void;
  onRecordShow(handler: (event: RecordShowEvent) => RecordShowEvent): void;
  /** Where the plugin may put its panel and buttons. */
  headerSpace(): HTMLElement | null;
}

/** Everything kintone gives the plugin's settings page. */
export interface SettingsHost {
  pluginId: string;
  language: string;
  /** The admin's kintone time zone: saved into the rule set so browser and relay judge dates alike. */
  timeZone: string;
  appId(): number | null;
  getConfig(): Record<string, string>;
  setConfig(config: Record<string, string>): Promise<void>;
  getProxyConfig(url: string, method: string): ProxyConfig | null;
  setProxyConfig(url: string, method: string, headers: Record<string, string>, data: Record<string, string>): Promise<void>;
  /**
   * `kintone.proxy`: kintone.plugin.app.proxy is not offered on the settings page, so this is the
   * page's route to the relay. It adds nothing saved: the caller sends the secret itself.
   */
  kintoneProxy: ProxyFn;
  api<T>(path: string, method: "GET", params: Record<string, unknown>): Promise<T>;
}
