import { describe, expect, it } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { DEMO_FIELDS, demoRuleSet } from "../../emulators/demo-app.js";
import { connectionFailureText, unreachableReason } from "../../plugin/src/settings/connection-test.js";
import { ErrorBoard } from "../../plugin/src/settings/error-paths.js";
import { fieldProblems, moveItem, renameKey } from "../../plugin/src/settings/field-checks.js";
import { settingsMessages } from "../../plugin/src/settings/settings-messages.js";
import { RelayClient, RelayError } from "../../plugin/src/relay-client.js";

const m = settingsMessages("en");

describe("moveItem and renameKey (the order the admin chooses)", () => {
  it("moves one item by one place, and leaves out-of-range moves alone", () => {
    const list = ["customer", "amount", "due_date"];
    expect(moveItem(list, 2, -1)).toEqual(["customer", "due_date", "amount"]);
    expect(moveItem(list, 0, 1)).toEqual(["amount", "customer", "due_date"]);
    expect(moveItem(list, 0, -1)).toEqual(list);
    expect(moveItem(list, 2, 1)).toEqual(list);
    expect(list).toEqual(["customer", "amount", "due_date"]);
  });

  it("renames a key in place", () => {
    expect(Object.entries(renameKey({ a: "1", b: "2", c: "3" }, "b", "x"))).toEqual([["a", "1"], ["x", "2"], ["c", "3"]]);
  });
});

describe("fieldProblems (what the schema cannot know: the app's form)", () => {
  const withButton = (set: Record<string, string>, fields?: string[]): RuleSet => {
    const rules = structuredClone(demoRuleSet()) as RuleSet;
    rules.rules[0]!.buttons[0]!.writeBack!.set = set;
    if (fields) rules.rules[0]!.message.fields = fields;
    return rules;
  };

  it("accepts text fields, options of choice fields and an empty drop-down", () => {
    expect(fieldProblems(withButton({ ack_status: "x", notes: "", priority: "Low" }), DEMO_FIELDS, m)).toEqual([]);
    expect(fieldProblems(withButton({ priority: "" }), DEMO_FIELDS, m)).toEqual([]);
  });

  it("flags write-back to a field that takes no text, an unknown option, a missing field, at the pair's path", () => {
    expect(fieldProblems(withButton({ amount: "1", priority: "Urgent", gone: "x" }), DEMO_FIELDS, m)).toEqual([
      { path: "rules.0.buttons.0.writeBack.set.amount", message: m.notTextField("Amount") },
      { path: "rules.0.buttons.0.writeBack.set.priority", message: m.notAnOption("Urgent", "Priority") },
      { path: "rules.0.buttons.0.writeBack.set.gone", message: m.unknownField("gone") },
    ]);
  });

  it("flags a message field the app no longer has, at its row", () => {
    expect(fieldProblems(withButton({}, ["customer", "gone"]), DEMO_FIELDS, m)).toEqual([
      { path: "rules.0.message.fields.1", message: m.unknownField("gone") },
    ]);
  });

  it("ErrorBoard.forgetBelow keeps the list's own sink and drops its rows'", () => {
    const board = new ErrorBoard();
    const seen: string[] = [];
    board.register("rules.0.message.fields", (msg) => msg && seen.push(`list:${msg}`));
    board.register("rules.0.message.fields.1", (msg) => msg && seen.push(`row:${msg}`));
    board.forgetBelow("rules.0.message.fields");
    board.show([{ path: "rules.0.message.fields.1", message: "bad" }]);
    expect(seen).toEqual(["list:1: bad"]);
  });
});

describe("connectionFailureText (Test connection: what, where, why)", () => {
  const url = "https://relay.example.com";

  it("relay down: names the relay, its URL, the proxy's reason, and says saving still works", async () => {
    // kintone's proxy rejects when the target cannot be reached; the page emulator does as kintone.
    const client = new RelayClient(() => Promise.reject(JSON.stringify({ message: "proxy: connection failed" })), url);
    const error = await client.ping().catch((e: unknown) => e);
    const text = connectionFailureText(error, url, m);
    expect(text).toContain("The relay cannot be reached");
    expect(text).toContain(`could not connect to ${url} (connection failed)`);
    expect(text).toContain("You can still save");
    expect(text).not.toContain("{");
  });

  it("no answer in time, a gateway error, a wrong address, a wrong secret", () => {
    expect(connectionFailureText(new RelayError("no answer within 10 s", 0, "timeout"), url, m)).toBe(m.testTimeout(url, "no answer within 10 s"));
    expect(connectionFailureText(new RelayError("the relay answered HTTP 502", 502, "relay_error"), url, m)).toContain("HTTP 502");
    expect(connectionFailureText(new RelayError("the relay answered HTTP 404", 404, "http_404"), url, m)).toContain("without /v1");
    expect(connectionFailureText(new RelayError("nope", 401, "unauthorized"), url, m)).toBe(m.testUnauthorized);
  });

  it("unreachableReason unwraps what the proxy said", () => {
    expect(unreachableReason('the relay could not be reached ({"message":"proxy: timeout"})')).toBe("timeout");
    expect(unreachableReason("the relay could not be reached ([object Object])")).toBe("");
    expect(unreachableReason("the relay could not be reached (TypeError: Failed to fetch)")).toBe("TypeError: Failed to fetch");
  });
});
