import { describe, expect, it } from "vitest";
import { handleProcessProceed } from "../../plugin/src/process-proceed.js";
import { recordMessages } from "../../plugin/src/record-messages.js";
import { handleRelayResponse, RelayError } from "../../plugin/src/relay-client.js";
import { describeRelayFailure, proxyReason } from "../../plugin/src/relay-failure.js";
import { demoRuleSet } from "../../emulators/demo-app.js";

const ja = recordMessages("ja");
const en = recordMessages("en");

describe("the staff notice says why the relay failed, in the user's language, without raw JSON", () => {
  it.each([
    [new RelayError('the relay could not be reached ({"message":"proxy: connect ECONNREFUSED"})', 0, "unreachable"), "中継サーバーに接続できませんでした：connect ECONNREFUSED", "the relay could not be reached (connect ECONNREFUSED)"],
    [new RelayError('the relay could not be reached ({"code":"X","id":"y"})', 0, "unreachable"), "中継サーバーに接続できませんでした", "the relay could not be reached"],
    [new RelayError("no answer within 5 s", 0, "timeout", [], 5000), "中継サーバーから5秒以内に応答がありませんでした", "the relay did not answer within 5 s"],
    [new RelayError("no answer", 0, "timeout"), "中継サーバーから時間内に応答がありませんでした", "the relay did not answer in time"],
    [new RelayError("bad key", 401, "unauthorized"), ja.reasonUnauthorized, en.reasonUnauthorized],
    [new RelayError("this key is app 3's key", 403, "wrong_app"), ja.reasonWrongApp, en.reasonWrongApp],
    [new RelayError("the relay answered HTTP 502", 502, "relay_error"), "中継サーバーが動いていません（HTTP 502）", "the relay is not working (HTTP 502)"],
    [new RelayError("too much work queued", 503, "overloaded"), ja.reasonBusy, en.reasonBusy],
    [new RelayError("rules.rules[0].id: duplicate", 400, "invalid_rules"), "中継サーバーが要求を受け付けませんでした：rules.rules[0].id: duplicate［invalid_rules］", "the relay refused the request: rules.rules[0].id: duplicate [invalid_rules]"],
  ])("%s", (error, jaText, enText) => {
    expect(describeRelayFailure(error, ja)).toBe(jaText);
    expect(describeRelayFailure(error, en)).toBe(enText);
    expect(describeRelayFailure(error, ja)).not.toMatch(/[{}]/);
  });

  it("a refusal the relay words in Japanese too is shown in Japanese to a Japanese user", () => {
    // What POST /v1/notifications answers for a malformed record number (relay/src/notifications/notification-request.ts).
    const answer = JSON.stringify({
      error: { code: "invalid_request", message: "recordId: must be a positive whole number", details: [{ path: "recordId", message: "must be a positive whole number", ja: "正の整数で指定してください" }] },
    });
    let error: unknown;
    try {
      handleRelayResponse([answer, 400, {}], [202]);
    } catch (thrown) {
      error = thrown;
    }
    expect(describeRelayFailure(error, ja)).toBe("中継サーバーが要求を受け付けませんでした：recordId：正の整数で指定してください［invalid_request］");
    expect(describeRelayFailure(error, en)).toBe("the relay refused the request: recordId: must be a positive whole number [invalid_request]");
  });

  it("reads a proxy's JSON error for its message", () => {
    expect(proxyReason('the relay could not be reached ({"message":"proxy: timeout"})')).toBe("timeout");
    expect(proxyReason('x ({"error":{"message":"gone"}})')).toBe("gone");
    expect(proxyReason("x ([object Object])")).toBe("");
  });

  it("a Japanese user's notice after a failed action is all Japanese, in 「」（）", async () => {
    const notices: string[] = [];
    const event = {
      type: "app.record.detail.process.proceed",
      appId: 1,
      recordId: 7,
      record: { priority: { type: "DROP_DOWN", value: "High" } },
      action: { value: "Approve" },
      status: { value: "Submitted" },
      nextStatus: { value: "Approved" },
    };
    await handleProcessProceed(event, {
      config: { relayUrl: "https://r.example", ruleSet: demoRuleSet() },
      notify: () => Promise.reject(new RelayError('the relay could not be reached ({"message":"proxy: connect ECONNREFUSED"})', 0, "unreachable")),
      showNotice: (text) => notices.push(text),
      messages: ja,
      appId: () => 1,
    });
    expect(notices).toEqual(["LINE通知を送信できませんでした（中継サーバーに接続できませんでした：connect ECONNREFUSED）。アクションは実行されました。"]);
  });
});
