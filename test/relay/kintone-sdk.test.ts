import { describe, expect, it } from "vitest";
import { createKintoneRestClient } from "../../relay/src/kintone/kintone-rest-client.js";

describe("the kintone REST API client, loaded at its first call", () => {
  it("still refuses at start-up a base URL the SDK would refuse (http other than localhost), naming the setting", () => {
    expect(() => createKintoneRestClient({ baseUrl: "http://127.0.0.1:3000", apiTokens: ["t"] })).toThrow(/KINTONE_BASE_URL "http:\/\/127\.0\.0\.1:3000".*http only for localhost/);
    expect(() => createKintoneRestClient({ baseUrl: "http://localhost:3000", apiTokens: ["t"] })).not.toThrow();
    expect(() => createKintoneRestClient({ baseUrl: "https://example.cybozu.com", apiTokens: ["t"] })).not.toThrow();
  });

  it("maps the SDK's errors (status, code) once it is loaded: a refused token is a 401 KintoneError", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "GAIA_IA02", id: "x", message: "The specified API token does not match the API token set for the app." }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const client = createKintoneRestClient({ baseUrl: `http://localhost:${port}`, apiTokens: ["wrong"] });
      await expect(client.getRecord("1", "1")).rejects.toMatchObject({ name: "KintoneError", status: 401, code: "GAIA_IA02" });
    } finally {
      server.close();
    }
  });
});
