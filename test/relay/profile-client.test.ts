import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProfileClient, LineProfileError } from "../../relay/src/line/profile-client.js";

const USER = "U" + "ab".repeat(16);
const GROUP = "C" + "cd".repeat(16);

/** A stand-in LINE API whose next answers the test decides; it records what reached it. */
describe("profile client (SDK MessagingApiClient, with our timeout and error classes)", () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ method: string; path: string; authorization: string | undefined }> = [];
  let answer: (res: ServerResponse) => void;
  const hung: ServerResponse[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization });
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of hung) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json", "x-line-request-id": "req-123", ...headers });
    res.end(JSON.stringify(body));
  };

  const invalidated: string[] = [];
  let token = "token-1";
  const tokens = {
    getToken: async () => token,
    invalidate: (t: string) => {
      invalidated.push(t);
      token = "token-2";
    },
  };
  // A generous timeout where the stand-in answers (a shared, loaded machine can take a while for
  // the first request); the short one only where the point is that no answer comes.
  const client = (timeoutMs = 10_000) => createProfileClient({ apiBaseUrl: baseUrl, tokens, timeoutMs });

  it("reads a friend's display name from GET /v2/bot/profile/{userId} with the current token", async () => {
    answer = json(200, { displayName: "Hanako Yamada", userId: USER, pictureUrl: "https://example.com/p.png" });
    expect(await client().displayName(USER)).toBe("Hanako Yamada");
    expect(seen).toEqual([{ method: "GET", path: `/v2/bot/profile/${USER}`, authorization: `Bearer ${token}` }]);
  });

  it("reads a group member's name from GET /v2/bot/group/{groupId}/member/{userId}, IDs escaped", async () => {
    answer = json(200, { displayName: "Taro (group)", userId: USER });
    expect(await client().displayName(USER, GROUP)).toBe("Taro (group)");
    await client().displayName("U/../x?y", GROUP);
    expect(seen.map((s) => s.path)).toEqual([`/v2/bot/group/${GROUP}/member/${USER}`, `/v2/bot/group/${GROUP}/member/U%2F..%2Fx%3Fy`]);
  });

  it("404: LINE does not know the user -> undefined, no error", async () => {
    answer = json(404, { message: "Not found" });
    expect(await client().displayName(USER)).toBeUndefined();
  });

  it("429 and 5xx: a LineProfileError with the status, LINE's message and x-line-request-id", async () => {
    for (const status of [429, 500, 503]) {
      answer = json(status, { message: "The API rate limit has been exceeded." });
      const error = await client().displayName(USER).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LineProfileError);
      expect(error).toMatchObject({ status, requestId: "req-123" });
      expect((error as Error).message).toBe(`LINE profile: ${status} The API rate limit has been exceeded.`);
    }
  });

  it("401: the token is invalidated and the error is thrown (the worker retries with a new one)", async () => {
    token = "token-1";
    invalidated.length = 0;
    answer = json(401, { message: "Authentication failed" });
    await expect(client().displayName(USER)).rejects.toMatchObject({ name: "LineProfileError", status: 401 });
    expect(invalidated).toEqual(["token-1"]);
    answer = json(200, { displayName: "Hanako Yamada", userId: USER });
    expect(await client().displayName(USER)).toBe("Hanako Yamada");
    expect(seen.at(-1)?.authorization).toBe("Bearer token-2");
  });

  it("no answer: a LineProfileError with status null after the timeout, not later", async () => {
    answer = (res) => hung.push(res);
    const started = Date.now();
    const error = await client(300).displayName(USER).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(LineProfileError);
    expect(error).toMatchObject({ status: null });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
  });

  it("a base URL with a path is refused at construction (the SDK would drop the path)", () => {
    expect(() => createProfileClient({ apiBaseUrl: `${baseUrl}/prefix`, tokens })).toThrow(/without a path/);
  });
});
