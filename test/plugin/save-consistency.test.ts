import { describe, expect, it } from "vitest";
import { checkSavedConsistency, planSave, runSave, type SaveWriter } from "../../plugin/src/settings/save-plan";

const ruleSet = { version: 1 as const, timeZone: "Asia/Tokyo", rules: [] };
const plan = () => {
  const planned = planSave({ relayUrl: "https://relay.example", appId: "1", newSecret: "k-0123456789abcdef", savedAuthorization: null, savedRelayUrl: null, ruleSet });
  if (!planned.ok) throw new Error("plan refused");
  return planned.plan;
};

/** Stores what kintone would hold; `failOn` makes that call throw as kintone's API does. */
function fakeKintone(failOn?: "proxyConfig" | "config") {
  const proxy = new Map<string, { headers: Record<string, string>; data: Record<string, string> }>();
  let config: Record<string, string> = {};
  const calls: string[] = [];
  const writer: SaveWriter = {
    setProxyConfig: async (url, method, headers, data) => {
      calls.push(`proxy ${method}`);
      if (failOn === "proxyConfig") throw new Error("proxy config over the size limit");
      proxy.set(`${method} ${url}`, { headers, data });
    },
    setConfig: async (next) => {
      calls.push("config");
      if (failOn === "config") throw new Error("network error");
      config = next;
    },
  };
  return { writer, calls, config: () => config, getProxyConfig: (url: string, method: string) => proxy.get(`${method} ${url}`) ?? null };
}

describe("Save writes the proxy configs first, the config last, and every failure is reported", () => {
  it("a full save: both stores hold the same rules", async () => {
    const k = fakeKintone();
    expect(await runSave(plan(), k.writer)).toEqual({ ok: true });
    expect(k.calls).toEqual(["proxy POST", "proxy GET", "config"]);
    expect(checkSavedConsistency(k.config(), k.getProxyConfig)).toEqual({ ok: true });
  });

  it("setConfig fails after the proxy configs: reported, and the next open sees the stores disagree", async () => {
    const k = fakeKintone("config");
    // An earlier save left other rules in the config.
    const before = { relayUrl: "https://relay.example", ruleSet: JSON.stringify({ version: 1, rules: [] }) };
    await k.writer.setConfig(before).catch(() => undefined);
    expect(await runSave(plan(), k.writer)).toEqual({ ok: false, step: "config", detail: "network error" });
    expect(checkSavedConsistency(before, k.getProxyConfig)).toEqual({ ok: false, problem: "rulesDiffer" });
  });

  it("setProxyConfig fails: reported, setConfig not called, and a config without its proxy config is detected", async () => {
    const k = fakeKintone("proxyConfig");
    expect(await runSave(plan(), k.writer)).toEqual({ ok: false, step: "proxyConfig", detail: "proxy config over the size limit" });
    expect(k.calls).toEqual(["proxy POST"]);
    expect(checkSavedConsistency(plan().config, k.getProxyConfig)).toEqual({ ok: false, problem: "proxyMissing" });
  });
});
