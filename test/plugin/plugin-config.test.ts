import { describe, expect, it } from "vitest";
import { parsePluginConfig, proxyPrefix } from "../../plugin/src/plugin-config.js";
import { demoRuleSet } from "../../emulators/demo-app.js";

describe("parsePluginConfig", () => {
  const ruleSet = JSON.stringify(demoRuleSet());

  it("reads a saved config into a typed value", () => {
    const parsed = parsePluginConfig({ relayUrl: "https://relay.example.com/", ruleSet });
    expect(parsed).toEqual({ ok: true, config: { relayUrl: "https://relay.example.com", ruleSet: demoRuleSet() } });
  });

  it("says 'not configured' for a plugin never saved", () => {
    expect(parsePluginConfig({})).toEqual({ ok: false, reason: "not configured" });
    expect(parsePluginConfig(null)).toEqual({ ok: false, reason: "not configured" });
  });

  it.each([
    [{ relayUrl: "ftp://x", ruleSet }, "relay URL is not http(s)"],
    [{ relayUrl: "https://x", ruleSet: "{" }, "rule set is not JSON"],
    [{ relayUrl: "https://x", ruleSet: '{"version":2,"rules":[]}' }, "rule set is not version 1"],
    [{ relayUrl: "https://x", ruleSet: '{"version":1,"rules":[{"id":"a"}]}' }, "rule 1 is malformed"],
  ])("refuses a malformed config %#", (raw, reason) => {
    expect(parsePluginConfig(raw)).toEqual({ ok: false, reason });
  });

  it("puts every relay endpoint under one proxy prefix", () => {
    expect(proxyPrefix("https://relay.example.com//")).toBe("https://relay.example.com/v1/");
    expect(proxyPrefix("http://localhost:8787/base")).toBe("http://localhost:8787/base/v1/");
  });
});
