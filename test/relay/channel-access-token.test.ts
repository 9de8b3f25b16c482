import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";
import {
  ChannelAccessTokenError,
  createChannelAccessTokenSource,
  type ChannelAccessTokenConfig,
} from "../../relay/src/line/channel-access-token.js";

const CHANNEL_ID = "1657000002";
const CHANNEL_SECRET = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d";
const KID = "kid-for-relay-tests";
const USER = "U" + "ab".repeat(16);
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

describe("channel access token source (against the LINE emulator)", () => {
  let clock = Date.parse("2026-04-01T09:00:00Z");
  const now = () => clock;
  const line = createLineEmulator({
    now,
    channels: [
      {
        channelId: CHANNEL_ID,
        channelSecret: CHANNEL_SECRET,
        assertionKeys: { [KID]: publicKey.export({ type: "spki", format: "pem" }).toString() },
      },
    ],
  });
  let server: RunningServer;

  beforeAll(async () => {
    server = await listen(line.app);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => line.reset());

  const stateless: ChannelAccessTokenConfig = { kind: "stateless", channelId: CHANNEL_ID, channelSecret: CHANNEL_SECRET };
  const tokenRequests = () => line.requests.filter((request) => request.path.startsWith("/oauth2/"));
  const source = (config: ChannelAccessTokenConfig = stateless) =>
    createChannelAccessTokenSource(config, { apiBaseUrl: server.url, now });

  async function pushWith(token: string): Promise<number> {
    const response = await fetch(server.url + "/v2/bot/message/push", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ to: USER, messages: [{ type: "text", text: "hi" }] }),
    });
    return response.status;
  }

  it("issues a stateless token on first use and caches it", async () => {
    const tokens = source();
    const token = await tokens.getToken();
    expect(await tokens.getToken()).toBe(token);
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]!.body).toEqual({ grant_type: "client_credentials", client_id: CHANNEL_ID, client_secret: CHANNEL_SECRET });
    expect(await pushWith(token)).toBe(200);
  });

  it("renews before expiry (10 % of 900 s = 90 s ahead) and after expiry", async () => {
    const tokens = source();
    const first = await tokens.getToken();
    clock += 900_000 - 91_000;
    expect(await tokens.getToken()).toBe(first);
    clock += 1_000;
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(tokenRequests()).toHaveLength(2);

    clock += 2 * 900_000; // the cached token is long expired
    expect(await pushWith(second)).toBe(401);
    const third = await tokens.getToken();
    expect(third).not.toBe(second);
    expect(await pushWith(third)).toBe(200);
  });

  it("coalesces concurrent callers into one token request", async () => {
    const tokens = source();
    line.delayNext("token", 50);
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
    expect(new Set(all).size).toBe(1);
    expect(tokenRequests()).toHaveLength(1);
  });

  it("renews after invalidate, and ignores invalidate of a token it no longer holds", async () => {
    const tokens = source();
    const first = await tokens.getToken();
    line.expireAllTokens();
    expect(await pushWith(first)).toBe(401);
    tokens.invalidate(first);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    tokens.invalidate(first);
    expect(await tokens.getToken()).toBe(second);
    expect(tokenRequests()).toHaveLength(2);
  });

  it("keeps a still-valid token when renewing early fails, and fails once it has expired", async () => {
    const tokens = source();
    const first = await tokens.getToken();
    clock += 900_000 - 30_000;
    line.failNext("token", { status: 500 });
    expect(await tokens.getToken()).toBe(first);
    clock += 30_000;
    line.failNext("token", { status: 503 });
    const error = await tokens.getToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChannelAccessTokenError);
    expect(error).toMatchObject({ status: 503, retryable: true });
  });

  it("fails with a clear error for a bad channel secret, without repeating the secret", async () => {
    const secret = "wrong-secret-0123456789abcdef012";
    const tokens = source({ kind: "stateless", channelId: CHANNEL_ID, channelSecret: secret });
    const error = (await tokens.getToken().catch((caught: unknown) => caught)) as ChannelAccessTokenError;
    expect(error).toBeInstanceOf(ChannelAccessTokenError);
    expect(error.name).toBe("ChannelAccessTokenError");
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_client");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/LINE refused to issue a stateless channel access token: HTTP 400 invalid_client/);
    expect(error.message).not.toContain(secret);
  });

  it("revokes the v2.1 token at shutdown, so restarts do not pile up live tokens", async () => {
    const jwk = JSON.stringify(privateKey.export({ format: "jwk" }));
    const tokens = source({ kind: "v2.1", channelId: CHANNEL_ID, privateKeyPem: jwk, kid: KID, channelSecret: CHANNEL_SECRET });
    const token = await tokens.getToken();
    expect(await pushWith(token)).toBe(200);
    await tokens.release();
    const revoke = line.requests.find((r) => r.path === "/oauth2/v2.1/revoke");
    expect(revoke?.body).toEqual({ client_id: CHANNEL_ID, client_secret: CHANNEL_SECRET, access_token: token });
    expect(revoke?.status).toBe(200);
    expect(await pushWith(token)).toBe(401);
  });

  it("issues a v2.1 token with a JWT signed by a JWK private key", async () => {
    const jwk = JSON.stringify(privateKey.export({ format: "jwk" }));
    const tokens = source({ kind: "v2.1", channelId: CHANNEL_ID, privateKeyPem: jwk, kid: KID });
    const token = await tokens.getToken();
    expect(await pushWith(token)).toBe(200);

    const form = tokenRequests()[0]!.body as Record<string, string>;
    expect(tokenRequests()[0]!.path).toBe("/oauth2/v2.1/token");
    expect(form.client_assertion_type).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const [header, payload] = form.client_assertion!.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString()) as unknown);
    expect(header).toEqual({ alg: "RS256", typ: "JWT", kid: KID });
    expect(payload).toEqual({
      iss: CHANNEL_ID,
      sub: CHANNEL_ID,
      aud: "https://api.line.me/",
      exp: Math.floor(clock / 1000) + 1800,
      token_exp: 2_592_000,
    });
    expect(line.issuedTokens.at(-1)).toMatchObject({ kind: "v2.1", expiresAt: clock + 2_592_000_000 });

    clock += 2_592_000_000 - 3 * 86_400_000; // 3 days (10 %) before expiry: renew
    expect(await tokens.getToken()).not.toBe(token);
  });

  it("accepts a PEM private key and refuses unusable key material at creation", () => {
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => source({ kind: "v2.1", channelId: CHANNEL_ID, privateKeyPem: pem, kid: KID })).not.toThrow();
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    for (const bad of ["not a key", small]) {
      expect(() => source({ kind: "v2.1", channelId: CHANNEL_ID, privateKeyPem: bad, kid: KID })).toThrow(ChannelAccessTokenError);
    }
  });

  it("returns a long-lived token as given", async () => {
    const tokens = source({ kind: "long-lived", token: "long-lived-abc" });
    expect(await tokens.getToken()).toBe("long-lived-abc");
    tokens.invalidate("long-lived-abc");
    expect(await tokens.getToken()).toBe("long-lived-abc");
    expect(tokenRequests()).toHaveLength(0);
  });
});

describe("channel access token source (transport failures)", () => {
  const config: ChannelAccessTokenConfig = { kind: "stateless", channelId: "1", channelSecret: "s3cret-value-for-test" };

  it("reports no answer as status 0, retryable", async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError("fetch failed");
    };
    const tokens = createChannelAccessTokenSource(config, { apiBaseUrl: "http://127.0.0.1:9", now: Date.now, fetch: failing });
    await expect(tokens.getToken()).rejects.toMatchObject({ name: "ChannelAccessTokenError", status: 0, retryable: true });
  });

  it("never quotes a token from a malformed answer", async () => {
    const leaky: typeof fetch = async () =>
      new Response(JSON.stringify({ access_token: "tok-should-not-leak", expires_in: "soon" }), { status: 200 });
    const tokens = createChannelAccessTokenSource(config, { apiBaseUrl: "http://line.invalid", now: Date.now, fetch: leaky });
    const error = (await tokens.getToken().catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(ChannelAccessTokenError);
    expect(error.message).not.toContain("tok-should-not-leak");
  });
});
