import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen, type RunningServer } from "../../emulators/listen.js";

const CHANNEL_ID = "1657000001";
const CHANNEL_SECRET = "4f2a0c1b9e8d7c6b5a4f3e2d1c0b9a88";
const KID = "test-kid-1";
const USER = "U" + "0f".repeat(16);
const TEXT = [{ type: "text", text: "hello" }];

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

/** Built here by hand (not with the relay's signer) so the two sides cannot share a mistake. */
function assertion(claims: Record<string, unknown>, key: KeyObject = privateKey, kid = KID): string {
  const enc = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signed = `${enc({ alg: "RS256", typ: "JWT", kid })}.${enc(claims)}`;
  return `${signed}.${sign("RSA-SHA256", Buffer.from(signed), key).toString("base64url")}`;
}

describe("LINE emulator: channel access tokens", () => {
  let clock = Date.parse("2026-04-01T09:00:00Z");
  const line = createLineEmulator({
    now: () => clock,
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

  function form(path: string, fields: Record<string, string>) {
    return fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }

  function push(token: string) {
    return fetch(server.url + "/v2/bot/message/push", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ to: USER, messages: TEXT }),
    });
  }

  function v21Claims(overrides: Record<string, unknown> = {}) {
    return {
      iss: CHANNEL_ID,
      sub: CHANNEL_ID,
      aud: "https://api.line.me/",
      exp: Math.floor(clock / 1000) + 30 * 60,
      token_exp: 86_400,
      ...overrides,
    };
  }

  it("issues a stateless token for 900 s; it stops working when it expires", async () => {
    const response = await form("/oauth2/v3/token", {
      grant_type: "client_credentials",
      client_id: CHANNEL_ID,
      client_secret: CHANNEL_SECRET,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token_type: string; access_token: string; expires_in: number };
    expect(body).toEqual({ token_type: "Bearer", access_token: expect.any(String), expires_in: 900 });
    expect(line.issuedTokens.at(-1)).toMatchObject({ kind: "stateless", channelId: CHANNEL_ID, expiresAt: clock + 900_000 });

    expect((await push(body.access_token)).status).toBe(200);
    clock += 899_999;
    expect((await push(body.access_token)).status).toBe(200);
    clock += 1;
    const expired = await push(body.access_token);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({
      message: "Authentication failed. Confirm that the access token in the authorization header is valid.",
    });
  });

  it("refuses a wrong client secret in LINE's OAuth error shape", async () => {
    const response = await form("/oauth2/v3/token", {
      grant_type: "client_credentials",
      client_id: CHANNEL_ID,
      client_secret: "not-the-secret",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "invalid_client", error_description: expect.any(String) });
  });

  it("refuses a form the spec does not allow", async () => {
    const response = await form("/oauth2/v3/token", { grant_type: "client_credentials", client_id: CHANNEL_ID });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("issues a v2.1 token for a JWT assertion signed with the registered key", async () => {
    const response = await form("/oauth2/v2.1/token", {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion(v21Claims()),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; expires_in: number; token_type: string; key_id: string };
    expect(body).toEqual({ access_token: expect.any(String), expires_in: 86_400, token_type: "Bearer", key_id: expect.any(String) });
    expect((await push(body.access_token)).status).toBe(200);

    clock += 86_400_000;
    expect((await push(body.access_token)).status).toBe(401);
  });

  it("refuses bad assertions: wrong key, unknown kid, exp too far, token_exp > 30 days, wrong aud", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const cases: Array<[string, string]> = [
      ["invalid_client", assertion(v21Claims(), other)],
      ["invalid_client", assertion(v21Claims(), privateKey, "unknown-kid")],
      ["invalid_request", assertion(v21Claims({ exp: Math.floor(clock / 1000) + 31 * 60 }))],
      ["invalid_request", assertion(v21Claims({ exp: Math.floor(clock / 1000) - 1 }))],
      ["invalid_request", assertion(v21Claims({ token_exp: 30 * 86_400 + 1 }))],
      ["invalid_request", assertion(v21Claims({ aud: "https://api.line.me" }))],
      ["invalid_request", assertion(v21Claims({ sub: "someone-else" }))],
    ];
    for (const [error, jwt] of cases) {
      const response = await form("/oauth2/v2.1/token", {
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: jwt,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe(error);
    }
  });

  it("revokes a v2.1 token; expireAllTokens expires the rest", async () => {
    const issued = await form("/oauth2/v2.1/token", {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion(v21Claims()),
    });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const revoked = await form("/oauth2/v2.1/revoke", { client_id: CHANNEL_ID, client_secret: CHANNEL_SECRET, access_token: token });
    expect(revoked.status).toBe(200);
    expect((await push(token)).status).toBe(401);

    const direct = line.createAccessToken({ channelId: CHANNEL_ID });
    expect((await push(direct)).status).toBe(200);
    line.expireAllTokens();
    expect((await push(direct)).status).toBe(401);
  });

  it("accepts a JWK public key and a stateless token by JWT assertion", async () => {
    line.registerAssertionKey(CHANNEL_ID, "jwk-kid", JSON.stringify(publicKey.export({ format: "jwk" })));
    const response = await form("/oauth2/v3/token", {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion(v21Claims(), privateKey, "jwk-kid"),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { expires_in: number }).expires_in).toBe(900);
  });
});
