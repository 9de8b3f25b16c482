/**
 * What "Save" writes, as plain values: the public config (setConfig) and the proxy configs that
 * kintone's server injects into the plugin's relay calls (setProxyConfig). The app key goes only
 * into the proxy config headers, with `X-Relay-App: <appId>` naming the app it is for (kintone's
 * saved headers override the browser's, so no user can name another app); the rule set goes into both (for editing, and tamper-proof for
 * the relay). The POST config always carries `rules`, even an empty set, so that a browser can
 * never supply its own.
 */
import type { RuleSet } from "../../../common/rules/rule-set";
import { CONFIG_KEYS, normalizeRelayUrl, proxyPrefix } from "../plugin-config";

export interface ProxyConfigEntry {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  data: Record<string, string>;
}

export interface SavePlan {
  config: Record<string, string>;
  proxyConfigs: ProxyConfigEntry[];
}

export interface SaveInput {
  relayUrl: string;
  /** This app's ID: the relay accepts the app key only for it (X-Relay-App). */
  appId: string;
  /** What the admin typed in the app key box; empty: keep the saved one. */
  newSecret: string;
  /** The Authorization header saved before, if any (read back on the settings page only). */
  savedAuthorization: string | null;
  /** The relay URL saved before, if any: its proxy configs are cleared when the URL changes. */
  savedRelayUrl: string | null;
  ruleSet: RuleSet;
}

export type SaveProblem = { control: "relayUrl" | "secret"; code: "required" | "invalidUrl" | "secretSpaces" };

export function validateRelayUrl(url: string): SaveProblem | null {
  const value = normalizeRelayUrl(url);
  if (!value) return { control: "relayUrl", code: "required" };
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return { control: "relayUrl", code: "invalidUrl" };
    if (parsed.search || parsed.hash) return { control: "relayUrl", code: "invalidUrl" };
  } catch {
    return { control: "relayUrl", code: "invalidUrl" };
  }
  return null;
}

export function planSave(input: SaveInput): { ok: true; plan: SavePlan } | { ok: false; problems: SaveProblem[] } {
  const problems: SaveProblem[] = [];
  const urlProblem = validateRelayUrl(input.relayUrl);
  if (urlProblem) problems.push(urlProblem);
  const secret = input.newSecret.trim();
  if (secret && /\s/.test(secret)) problems.push({ control: "secret", code: "secretSpaces" });
  const authorization = secret ? `Bearer ${secret}` : input.savedAuthorization;
  if (!authorization) problems.push({ control: "secret", code: "required" });
  if (problems.length > 0 || !authorization) return { ok: false, problems };

  const relayUrl = normalizeRelayUrl(input.relayUrl);
  const prefix = proxyPrefix(relayUrl);
  const rules = JSON.stringify(input.ruleSet);
  const headers = { Authorization: authorization, "X-Relay-App": input.appId };
  const proxyConfigs: ProxyConfigEntry[] = [
    { url: prefix, method: "POST", headers, data: { rules } },
    { url: prefix, method: "GET", headers: { ...headers }, data: {} },
  ];
  if (input.savedRelayUrl && proxyPrefix(input.savedRelayUrl) !== prefix) {
    // Don't leave the key behind at a relay URL that is no longer used.
    const old = proxyPrefix(input.savedRelayUrl);
    proxyConfigs.unshift(
      { url: old, method: "POST", headers: {}, data: {} },
      { url: old, method: "GET", headers: {}, data: {} },
    );
  }
  return {
    ok: true,
    plan: { config: { [CONFIG_KEYS.relayUrl]: relayUrl, [CONFIG_KEYS.ruleSet]: rules }, proxyConfigs },
  };
}

/**
 * kintone has no transaction across setProxyConfig and setConfig, so Save writes them in an order
 * whose every interruption leaves a state the page can see on its next open:
 * 1. the proxy configs (what kintone's server injects into every relay call: what is in effect);
 * 2. setConfig last (what the settings page and the record pages read).
 * When 1 fails part-way or 2 fails, the POST proxy config's `rules` and the config's rule set
 * differ (or the proxy config is missing): checkSavedConsistency says so on open, and Save repairs it.
 */
export interface SaveWriter {
  setProxyConfig(url: string, method: string, headers: Record<string, string>, data: Record<string, string>): Promise<void>;
  setConfig(config: Record<string, string>): Promise<void>;
}

export type SaveOutcome = { ok: true } | { ok: false; step: "proxyConfig" | "config"; detail: string };

export async function runSave(plan: SavePlan, writer: SaveWriter): Promise<SaveOutcome> {
  for (const entry of plan.proxyConfigs) {
    try {
      await writer.setProxyConfig(entry.url, entry.method, entry.headers, entry.data);
    } catch (error) {
      return { ok: false, step: "proxyConfig", detail: errorDetail(error) };
    }
  }
  try {
    await writer.setConfig(plan.config);
  } catch (error) {
    return { ok: false, step: "config", detail: errorDetail(error) };
  }
  return { ok: true };
}

function errorDetail(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type SavedConsistency = { ok: true } | { ok: false; problem: "proxyMissing" | "rulesDiffer" };

/**
 * Whether what the relay receives (the POST proxy config's `rules`) is the rule set the page
 * shows (the config's). Nothing saved yet counts as consistent.
 */
export function checkSavedConsistency(
  config: Record<string, string>,
  getProxyConfig: (url: string, method: string) => { data?: Record<string, string> } | null,
): SavedConsistency {
  const relayUrl = config[CONFIG_KEYS.relayUrl];
  const rules = config[CONFIG_KEYS.ruleSet];
  if (!relayUrl || rules === undefined) return { ok: true };
  const proxy = getProxyConfig(proxyPrefix(normalizeRelayUrl(relayUrl)), "POST");
  if (!proxy || proxy.data?.rules === undefined) return { ok: false, problem: "proxyMissing" };
  return proxy.data.rules === rules ? { ok: true } : { ok: false, problem: "rulesDiffer" };
}
