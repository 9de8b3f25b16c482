/**
 * What "Save" writes, as plain values: the public config (setConfig) and the proxy configs that
 * kintone's server injects into the plugin's relay calls (setProxyConfig). The secret goes only
 * into the proxy config headers; the rule set goes into both (for editing, and tamper-proof for
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
  /** What the admin typed in the secret box; empty: keep the saved one. */
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
  const proxyConfigs: ProxyConfigEntry[] = [
    { url: prefix, method: "POST", headers: { Authorization: authorization }, data: { rules } },
    { url: prefix, method: "GET", headers: { Authorization: authorization }, data: {} },
  ];
  if (input.savedRelayUrl && proxyPrefix(input.savedRelayUrl) !== prefix) {
    // Don't leave the secret behind at a relay URL that is no longer used.
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
