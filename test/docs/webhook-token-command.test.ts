import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../relay/src/settings.js";

/**
 * docs/kintone-webhook.md tells the operator how to make a KINTONE_WEBHOOK_TOKEN. Run exactly the
 * documented command and show the relay accepts what it prints, so the guide cannot drift from
 * the setting's rule.
 */
const ROOT = join(import.meta.dirname, "../..");
const TOKEN_COMMAND = /```sh\n(node -e "[^\n]+")\n```/;

describe("docs/kintone-webhook.md: the token command", () => {
  it("prints a token the relay accepts as KINTONE_WEBHOOK_TOKEN", () => {
    const command = TOKEN_COMMAND.exec(readFileSync(join(ROOT, "docs/kintone-webhook.md"), "utf8"))?.[1];
    expect(command, "the guide shows the token command in a sh block").toBeDefined();
    const token = execSync(command!, { encoding: "utf8" }).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32,128}$/);
    const result = readSettings({
      RELAY_SECRET: "relay-secret-0123456789",
      LINE_CHANNEL_SECRET: "channel-secret",
      LINE_CHANNEL_ACCESS_TOKEN: "long-lived",
      KINTONE_BASE_URL: "https://example.cybozu.com/",
      KINTONE_API_TOKEN: "abc123",
      KINTONE_WEBHOOK_TOKEN: token,
    });
    expect(result.ok && result.settings.kintoneWebhookToken).toBe(token);
  });
});
