import { describe, expect, it } from "vitest";
import { planSave } from "../../plugin/src/settings/save-plan.js";
import { ErrorBoard, normalizePath } from "../../plugin/src/settings/error-paths.js";

const empty = { version: 1 as const, rules: [] };

describe("planSave", () => {
  it("puts the app key and X-Relay-App only in proxy config headers, and the rules in setConfig and the POST data", () => {
    const result = planSave({ appId: "7", relayUrl: "https://relay.example.com/", newSecret: "s3cret", savedAuthorization: null, savedRelayUrl: null, ruleSet: empty });
    expect(result).toEqual({
      ok: true,
      plan: {
        config: { relayUrl: "https://relay.example.com", ruleSet: JSON.stringify(empty) },
        proxyConfigs: [
          { url: "https://relay.example.com/v1/", method: "POST", headers: { Authorization: "Bearer s3cret", "X-Relay-App": "7" }, data: { rules: JSON.stringify(empty) } },
          { url: "https://relay.example.com/v1/", method: "GET", headers: { Authorization: "Bearer s3cret", "X-Relay-App": "7" }, data: {} },
        ],
      },
    });
    if (result.ok) expect(JSON.stringify(result.plan.config)).not.toContain("s3cret");
  });

  it("keeps the saved secret when none is typed", () => {
    const result = planSave({ appId: "7", relayUrl: "https://r.example", newSecret: "", savedAuthorization: "Bearer old", savedRelayUrl: "https://r.example", ruleSet: empty });
    expect(result.ok && result.plan.proxyConfigs.map((p) => p.headers)).toEqual([
      { Authorization: "Bearer old", "X-Relay-App": "7" },
      { Authorization: "Bearer old", "X-Relay-App": "7" },
    ]);
  });

  it("clears the proxy configs of a relay URL no longer used", () => {
    const result = planSave({ appId: "7", relayUrl: "https://new.example", newSecret: "x", savedAuthorization: "Bearer old", savedRelayUrl: "https://old.example", ruleSet: empty });
    expect(result.ok && result.plan.proxyConfigs.slice(0, 2)).toEqual([
      { url: "https://old.example/v1/", method: "POST", headers: {}, data: {} },
      { url: "https://old.example/v1/", method: "GET", headers: {}, data: {} },
    ]);
  });

  it("refuses a missing secret and a bad URL, naming the control", () => {
    expect(planSave({ appId: "7", relayUrl: "relay", newSecret: "", savedAuthorization: null, savedRelayUrl: null, ruleSet: empty })).toEqual({
      ok: false,
      problems: [
        { control: "relayUrl", code: "invalidUrl" },
        { control: "secret", code: "required" },
      ],
    });
  });
});

describe("ErrorBoard", () => {
  it("normalizes the shared parser's paths", () => {
    expect(normalizePath("rules[0].buttons[1].label")).toBe("rules.0.buttons.1.label");
    expect(normalizePath(["rules", 2, "id"])).toBe("rules.2.id");
  });

  it("puts an error at the control with the longest registered prefix", () => {
    const board = new ErrorBoard();
    const shown: Record<string, string> = {};
    for (const path of ["rules", "rules.0", "rules.0.message.title"]) board.register(path, (m) => (shown[path] = m));
    const orphans = board.show([
      { path: "rules[0].message.title", message: "must not be empty" },
      { path: "rules[0].trigger.actions[0]", message: "must not be empty" },
      { path: "version", message: "must be 1" },
    ]);
    expect(shown).toEqual({ rules: "", "rules.0": "trigger.actions.0: must not be empty", "rules.0.message.title": "must not be empty" });
    expect(orphans).toEqual([{ path: "version", message: "must be 1" }]);
  });
});
