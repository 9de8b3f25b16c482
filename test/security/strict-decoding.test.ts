import { afterEach, describe, expect, it } from "vitest";
import { createPostbackTokens } from "../../relay/src/postback-token.js";
import { isValidLineSignature } from "../../relay/src/webhook/verify-signature.js";
import { postWebhook, signBody, webhookBody } from "../helpers/line-webhook.js";
import { startStack, TEST_CHANNEL_SECRET, type Stack } from "../helpers/start-stack.js";

/**
 * Node's Buffer.from(x, "base64") skips characters it does not know and ignores padding and
 * trailing bits, so many strings decode to the same bytes. A signature or token must verify in
 * exactly one spelling: the canonical one.
 */
const body = new TextEncoder().encode(webhookBody([]));
const signature = signBody(webhookBody([]), TEST_CHANNEL_SECRET);

/** Changes the last base64 character so that only its unused low bits differ. */
function flipUnusedBits(encoded: string, alphabet: string): string {
  const stripped = encoded.replace(/=+$/, "");
  const last = stripped.at(-1) ?? "";
  const index = alphabet.indexOf(last);
  // 32 bytes -> 43 characters: the last one carries 4 bits, its low 2 bits are unused.
  const sibling = alphabet[(index & ~0b11) | ((index & 0b11) ^ 0b01)] ?? "";
  return stripped.slice(0, -1) + sibling + encoded.slice(stripped.length);
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("x-line-signature is accepted only in canonical base64", () => {
  it("the signature LINE sends verifies", () => {
    expect(signature).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(isValidLineSignature(TEST_CHANNEL_SECRET, body, signature)).toBe(true);
  });

  const variants: Array<[string, string]> = [
    ["an extra '='", signature + "="],
    ["'!' appended", signature + "!"],
    ["the padding dropped", signature.replace(/=$/, "")],
    ["a space inside", signature.slice(0, 10) + " " + signature.slice(10)],
    ["a trailing newline", signature + "\n"],
    ["a leading space", " " + signature],
    ["base64url spelling", signature.replace(/\+/g, "-").replace(/\//g, "_")],
    ["non-canonical trailing bits", flipUnusedBits(signature, BASE64)],
  ];
  it.each(variants)("%s does not verify", (_what, variant) => {
    expect(variant).not.toBe(signature);
    // Each variant decodes to the very same bytes under a lenient decoder: that is the hole.
    expect(Buffer.from(variant, "base64").equals(Buffer.from(signature, "base64"))).toBe(true);
    expect(isValidLineSignature(TEST_CHANNEL_SECRET, body, variant)).toBe(false);
  });

  describe("through HTTP", () => {
    let stack: Stack | undefined;
    afterEach(async () => {
      await stack?.close();
      stack = undefined;
    });

    it("a webhook whose signature has '=' appended is refused with 401 and nothing is stored", async () => {
      stack = await startStack();
      const event = {
        type: "follow",
        mode: "active",
        timestamp: Date.now(),
        source: { type: "user", userId: "U" + "c".repeat(32) },
        webhookEventId: "01JSTRICTSIGNATURE00000001",
        deliveryContext: { isRedelivery: false },
        replyToken: "r",
        follow: { isUnblocked: false },
      };
      const raw = webhookBody([event]);
      const response = await postWebhook(stack.relayUrl, raw, TEST_CHANNEL_SECRET, signBody(raw, TEST_CHANNEL_SECRET) + "=");
      expect(response.status).toBe(401);
      expect(await stack.store.getWebhookEvent(event.webhookEventId)).toBeUndefined();
      const accepted = await postWebhook(stack.relayUrl, raw, TEST_CHANNEL_SECRET);
      expect(accepted.status).toBe(200);
      expect(await stack.store.getWebhookEvent(event.webhookEventId)).toBeDefined();
    });
  });
});

describe("postback tokens are accepted only in canonical base64url", () => {
  const tokens = createPostbackTokens(["key-one-0123456789abcdef", "key-two-0123456789abcdef"]);
  const token = tokens.sign({ deliveryId: "d1", buttonId: "ack" });
  const mac = token.split(".").at(-1) ?? "";

  it("the token the relay signed verifies", () => {
    expect(mac).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.verify(token)).toEqual({ deliveryId: "d1", buttonId: "ack" });
  });

  const variants: Array<[string, string]> = [
    ["'=' appended", token + "="],
    ["'==' appended", token + "=="],
    ["'!' appended", token + "!"],
    ["a space appended", token + " "],
    ["a newline inside the mac", token.slice(0, -5) + "\n" + token.slice(-5)],
    ["base64 spelling of the mac", token.replace(/-/g, "+").replace(/_/g, "/") + (mac.includes("-") || mac.includes("_") ? "" : "=")],
    ["non-canonical trailing bits", token.slice(0, -mac.length) + flipUnusedBits(mac, BASE64URL)],
  ];
  it.each(variants)("%s does not verify", (_what, variant) => {
    expect(variant).not.toBe(token);
    expect(tokens.verify(variant)).toBeUndefined();
  });

  it("a token signed with the older key still verifies (rotation), in canonical form only", () => {
    const older = createPostbackTokens(["key-two-0123456789abcdef"]).sign({ deliveryId: "d2", buttonId: "ok" });
    expect(tokens.verify(older)).toEqual({ deliveryId: "d2", buttonId: "ok" });
    expect(tokens.verify(older + "=")).toBeUndefined();
  });
});
