import { describe, expect, it } from "vitest";
import type { ProxyFn } from "../../plugin/src/host.js";
import { RelayClient, RelayError } from "../../plugin/src/relay-client.js";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  data: unknown;
}

function fakeProxy(answer: (sent: Sent) => Promise<[string, number, Record<string, string>]>) {
  const sent: Sent[] = [];
  const proxy: ProxyFn = (url, method, headers, data) => {
    const call = { url, method, headers, data };
    sent.push(call);
    return answer(call);
  };
  return { proxy, sent };
}

const json = (status: number, body: unknown) => Promise.resolve([JSON.stringify(body), status, {}] as [string, number, Record<string, string>]);

describe("RelayClient", () => {
  it("posts a notification with only the references; secret and rules are left to the proxy config", async () => {
    const { proxy, sent } = fakeProxy(() => json(202, { id: "job-1" }));
    const client = new RelayClient(proxy, "https://relay.example.com/");
    const id = await client.notify({ appId: "1", recordId: "7", action: "Approve", status: "Submitted", nextStatus: "Approved" });
    expect(id).toBe("job-1");
    expect(sent).toEqual([
      {
        url: "https://relay.example.com/v1/notifications",
        method: "POST",
        headers: { "Content-Type": "application/json" },
        data: { appId: "1", recordId: "7", action: "Approve", status: "Submitted", nextStatus: "Approved" },
      },
    ]);
  });

  it("reads deliveries with GET and no body", async () => {
    const { proxy, sent } = fakeProxy(() => json(200, { deliveries: [] }));
    await new RelayClient(proxy, "https://r.example").listDeliveries("1", "7");
    expect(sent[0]).toEqual({ url: "https://r.example/v1/records/1/7/deliveries", method: "GET", headers: {}, data: {} });
  });

  it("turns the relay's error body into a RelayError", async () => {
    const { proxy } = fakeProxy(() => json(401, { error: { code: "unauthorized", message: "bad secret" } }));
    const error = await new RelayClient(proxy, "https://r.example").ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ status: 401, code: "unauthorized", message: "bad secret" });
  });

  it("names an answer without a JSON error body by its status", async () => {
    const { proxy } = fakeProxy(() => Promise.resolve(["<html>bad gateway</html>", 502, {}]));
    await expect(new RelayClient(proxy, "https://r.example").ping()).rejects.toMatchObject({ status: 502, code: "relay_error" });
  });

  it("gives up after the bounded wait", async () => {
    const { proxy } = fakeProxy(() => new Promise(() => {}));
    const started = Date.now();
    await expect(new RelayClient(proxy, "https://r.example", 50).ping()).rejects.toMatchObject({ code: "timeout", status: 0 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("reports a rejected proxy call as unreachable", async () => {
    const { proxy } = fakeProxy(() => Promise.reject(new Error("connection failed")));
    await expect(new RelayClient(proxy, "https://r.example").ping()).rejects.toMatchObject({ code: "unreachable" });
  });
});
