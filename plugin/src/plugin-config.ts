/**
 * The plugin's saved config (kintone.plugin.app.getConfig: string values, readable by any app user,
 * so it never holds the secret), parsed once into a typed value.
 *
 * The record pages use the small hand-written guard below rather than the zod schema: the settings
 * page validated the rule set in full before saving it, and zod would not fit the desktop budget.
 */
import type { Rule, RuleSet } from "../../common/rules/rule-set";

export interface PluginConfig {
  relayUrl: string;
  ruleSet: RuleSet;
}

/** Keys of the saved config. */
export const CONFIG_KEYS = { relayUrl: "relayUrl", ruleSet: "ruleSet" } as const;

export type ParsedConfig = { ok: true; config: PluginConfig } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function isRule(v: unknown): v is Rule {
  if (!isObject(v) || typeof v.id !== "string") return false;
  const { trigger, recipients, message, buttons, when } = v;
  if (!isObject(trigger) || !isStringArray(trigger.actions) || !isStringArray(trigger.from) || !isStringArray(trigger.to)) {
    return false;
  }
  if (!isObject(recipients) || !isStringArray(recipients.fields) || !isStringArray(recipients.ids)) return false;
  if (!isObject(message) || typeof message.title !== "string" || !isStringArray(message.fields)) return false;
  if (!Array.isArray(buttons)) return false;
  if (when !== undefined) {
    if (!isObject(when)) return false;
    const list = "all" in when ? when.all : when.any;
    if (!Array.isArray(list) || !list.every((c) => isObject(c) && typeof c.field === "string" && typeof c.op === "string")) {
      return false;
    }
  }
  return true;
}

/** Strips trailing slashes: "https://relay.example.com/" -> "https://relay.example.com". */
export function normalizeRelayUrl(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

/** The URL prefix the proxy config is saved for: every relay endpoint the plugin calls is under it. */
export function proxyPrefix(relayUrl: string): string {
  return `${normalizeRelayUrl(relayUrl)}/v1/`;
}

export function parsePluginConfig(raw: Record<string, string> | null | undefined): ParsedConfig {
  if (!raw || !raw[CONFIG_KEYS.relayUrl]) return { ok: false, reason: "not configured" };
  const relayUrl = normalizeRelayUrl(raw[CONFIG_KEYS.relayUrl] ?? "");
  if (!/^https?:\/\/[^\s]+$/.test(relayUrl)) return { ok: false, reason: "relay URL is not http(s)" };
  let ruleSet: unknown;
  try {
    ruleSet = JSON.parse(raw[CONFIG_KEYS.ruleSet] ?? "");
  } catch {
    return { ok: false, reason: "rule set is not JSON" };
  }
  if (!isObject(ruleSet) || ruleSet.version !== 1 || !Array.isArray(ruleSet.rules)) {
    return { ok: false, reason: "rule set is not version 1" };
  }
  const bad = ruleSet.rules.findIndex((rule) => !isRule(rule));
  if (bad >= 0) return { ok: false, reason: `rule ${bad + 1} is malformed` };
  return { ok: true, config: { relayUrl, ruleSet: ruleSet as RuleSet } };
}
