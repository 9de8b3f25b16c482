import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { deriveAppKey } from "../../relay/src/http/app-key.js";
import { approvalRequest, startStack, waitFor, type Stack } from "../helpers/start-stack.js";

/**
 * Per-app credentials: a key derived for one app (HMAC of "app:<id>" under RELAY_SECRET) works
 * only for that app, whatever the body, the path or X-Relay-App say; the master secret works for
 * every app. Everything goes through real HTTP; "nothing stored" is every row of every table.
 */
const ROOT = join(import.meta.dirname, "../..");
const OTHER_SECRET = "previous-relay-secret-0123456789";
let stack: Stack;
let key1: string;
let key2: string;
beforeEach(async () => {
  stack = await startStack({ relaySecrets: ["current-relay-secret-0123456789", OTHER_SECRET] });
  key1 = deriveAppKey(stack.relaySecret, "1");
  key2 = deriveAppKey(stack.relaySecret, "2");
});
afterEach(async () => {
  await stack.close();
});

function storeRows(): Record<string, number> {
  const tables = stack.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>;
  return Object.fromEntries(tables.map(({ name }) => [name, (stack.store.db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n]));
}

function call(path: string, init: { method?: string; bearer: string; app?: string; body?: unknown }) {
  const headers: Record<string, string> = { authorization: `Bearer ${init.bearer}` };
  if (init.app !== undefined) headers["x-relay-app"] = init.app;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${stack.relayUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function expectWrongApp(response: Response) {
  expect(response.status).toBe(403);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("wrong_app");
  expect(body.error.message).not.toBe("");
}

const pushes = () => stack.line.requests.filter((r) => r.path === "/v2/bot/message/push");
const approval = (appId: string, recordId: string) => ({ ...approvalRequest(recordId), appId });

describe("an app key works only for its own app", () => {
  it("app 1's key with body appId 2: 403 wrong_app, no row stored, nothing pushed; the same key for app 1 pushes", async () => {
    const { id: recordId } = stack.kintone.addRecord(stack.demoAppId, { order_no: "X-1", priority: "High", line_user_id: "U" + "1".repeat(32) });
    stack.kintone.runAction(stack.demoAppId, recordId, "Approve");
    const before = storeRows();
    await expectWrongApp(await call("/v1/notifications", { bearer: key1, app: "1", body: approval("2", recordId) }));
    expect(storeRows()).toEqual(before);

    // Control: the same key for its own app is accepted, stored, and pushed.
    const own = await call("/v1/notifications", { bearer: key1, app: "1", body: approval("1", recordId) });
    expect(own.status).toBe(202);
    await waitFor(() => pushes().length > 0, 10_000, "the push for app 1");
    expect(pushes()).toHaveLength(1);
    expect((pushes()[0]?.body as { to: string }).to).toBe("U" + "1".repeat(32));
  });

  it("app 1's key with X-Relay-App: 2 is refused (403), whatever the body says", async () => {
    const before = storeRows();
    await expectWrongApp(await call("/v1/notifications", { bearer: key1, app: "2", body: approval("2", "1") }));
    await expectWrongApp(await call("/v1/notifications", { bearer: key1, app: "2", body: approval("1", "1") }));
    await expectWrongApp(await call("/v1/ping", { bearer: key1, app: "2", body: { rules: JSON.stringify(demoRuleSet()) } }));
    expect(storeRows()).toEqual(before);
    expect(pushes()).toHaveLength(0);
  });

  it("X-Relay-App that disagrees with the path's app: 403 for rules and deliveries", async () => {
    const rules = JSON.stringify(demoRuleSet());
    const before = storeRows();
    await expectWrongApp(await call("/v1/apps/2/rules", { method: "PUT", bearer: key1, app: "1", body: { rules } }));
    await expectWrongApp(await call("/v1/apps/2/rules", { bearer: key1, app: "1" }));
    await expectWrongApp(await call("/v1/records/2/1/deliveries", { bearer: key1, app: "1" }));
    expect(storeRows()).toEqual(before);
    // Control: its own app's paths answer.
    expect((await call("/v1/apps/1/rules", { method: "PUT", bearer: key1, app: "1", body: { rules } })).status).toBe(200);
    expect((await call("/v1/records/1/1/deliveries", { bearer: key1, app: "1" })).status).toBe(200);
  });

  it("app 2's deliveries cannot be listed with app 1's key; app 2's key and the master secret list them", async () => {
    await expectWrongApp(await call("/v1/records/2/7/deliveries", { bearer: key1, app: "1" }));
    for (const [bearer, app] of [[key2, "2"], [stack.relaySecret, undefined]] as const) {
      const response = await call("/v1/records/2/7/deliveries", { bearer, app });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ deliveries: [] });
    }
  });

  it("a link code for app 2 cannot be minted with app 1's key: 403, no code stored", async () => {
    const before = storeRows();
    await expectWrongApp(await call("/v1/link-codes", { bearer: key1, app: "1", body: { appId: 2, recordId: 1, field: "line_user_id" } }));
    expect(storeRows()).toEqual(before);
    const own = await call("/v1/link-codes", { bearer: key1, app: "1", body: { appId: 1, recordId: 1, field: "line_user_id" } });
    expect(own.status).toBe(201);
    expect(storeRows().link_codes).toBe((before.link_codes ?? 0) + 1);
  });

  it("an app key without X-Relay-App is refused (401): the relay cannot tell which app it is for", async () => {
    const response = await call("/v1/ping", { bearer: key1, body: { rules: JSON.stringify(demoRuleSet()) } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("X-Relay-App");
  });

  it("keys derived from a previous secret still in RELAY_SECRET are accepted; the relay issues the current one", async () => {
    const old = deriveAppKey(OTHER_SECRET, "1");
    expect((await call("/v1/records/1/1/deliveries", { bearer: old, app: "1" })).status).toBe(200);
    const issued = await call("/v1/apps/1/key", { bearer: OTHER_SECRET });
    expect(await issued.json()).toEqual({ appId: "1", key: key1 });
  });
});

describe("the master secret (the operator's tools)", () => {
  it("works for app 1 and app 2 on every route, with or without X-Relay-App", async () => {
    const rules = JSON.stringify(demoRuleSet());
    for (const appId of ["1", "2"]) {
      expect((await call("/v1/notifications", { bearer: stack.relaySecret, body: approval(appId, "1") })).status).toBe(202);
      expect((await call(`/v1/apps/${appId}/rules`, { method: "PUT", bearer: stack.relaySecret, body: { rules } })).status).toBe(200);
      expect((await call(`/v1/apps/${appId}/rules`, { bearer: stack.relaySecret, app: appId })).status).toBe(200);
      expect((await call(`/v1/records/${appId}/1/deliveries`, { bearer: stack.relaySecret })).status).toBe(200);
    }
    expect((await call("/v1/groups", { bearer: stack.relaySecret })).status).toBe(200);
    const stored = stack.store.db.prepare("SELECT DISTINCT app_id AS appId FROM notifications ORDER BY app_id").all();
    expect(stored).toEqual([{ appId: "1" }, { appId: "2" }]);
  });

  it("GET /v1/apps/{appId}/key issues the key (master only); an app key gets 403, even for its own app", async () => {
    const issued = await call("/v1/apps/2/key", { bearer: stack.relaySecret });
    expect(issued.status).toBe(200);
    expect(await issued.json()).toEqual({ appId: "2", key: key2 });
    const refused = await call("/v1/apps/1/key", { bearer: key1, app: "1" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("master_secret_required");
  });

  it("GET /v1/groups is open to an app key: it lists the channel's groups, nothing of any app", async () => {
    const response = await call("/v1/groups", { bearer: key1, app: "1" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ groups: [] });
  });
});

describe("npm run app-key -- <appId>", () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile("npm", ["run", "--silent", "app-key", "--", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  it("prints the key the relay issues; one clear line for a missing secret or a bad appId", async () => {
    const printed = await run(["2"], { RELAY_SECRET: `${stack.relaySecret},${OTHER_SECRET}` });
    expect(printed).toMatchObject({ code: 0, stderr: "" });
    const issued = (await (await call("/v1/apps/2/key", { bearer: stack.relaySecret })).json()) as { key: string };
    expect(printed.stdout).toBe(`${issued.key}\n`);
    // The printed key works for its app.
    expect((await call("/v1/records/2/1/deliveries", { bearer: printed.stdout.trim(), app: "2" })).status).toBe(200);

    const missing = await run(["2"], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^app-key: RELAY_SECRET: missing/)]);
    const bad = await run(["abc"], { RELAY_SECRET: stack.relaySecret });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringContaining('"abc" is not a kintone app ID')]);
  }, 30_000);
});
