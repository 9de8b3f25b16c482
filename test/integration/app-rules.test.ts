/**
 * The relay keeps each app's rule set: PUT/GET /v1/apps/{appId}/rules (what the settings page
 * registers on save), record-page notifications keeping it current, and POST /v1/ping checking
 * the rule set in its body. Real HTTP against the relay of the test stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleSet } from "../../common/rules/rule-set.js";
import { demoRuleSet } from "../../emulators/demo-app.js";
import { approvalRequest, startStack, type Stack } from "../helpers/start-stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function call(method: string, path: string, body?: unknown, secret: string | null = stack.relaySecret) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== null) headers.authorization = `Bearer ${secret}`;
  return fetch(`${stack.relayUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

const rulesOf = (title: string): RuleSet => {
  const rules = demoRuleSet() as RuleSet;
  rules.rules[0]!.message.title = title;
  return rules;
};

interface StoredRules {
  appId: string;
  version: number;
  rules: string;
  updatedAt: string;
}

async function stored(appId: number): Promise<StoredRules> {
  const response = await call("GET", `/v1/apps/${appId}/rules`);
  expect(response.status).toBe(200);
  return (await response.json()) as StoredRules;
}

describe("/v1/apps/{appId}/rules", () => {
  it("refuses a missing or wrong secret (401) and stores nothing", async () => {
    const body = { rules: JSON.stringify(rulesOf("A")) };
    expect((await call("PUT", "/v1/apps/7/rules", body, null)).status).toBe(401);
    expect((await call("PUT", "/v1/apps/7/rules", body, "not-the-secret-0123456789")).status).toBe(401);
    expect((await call("GET", "/v1/apps/7/rules", undefined, "not-the-secret-0123456789")).status).toBe(401);
    const missing = await call("GET", "/v1/apps/7/rules");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("keeps versions: the same content keeps its version, new content gets the next one", async () => {
    const a = rulesOf("Order {{order_no}} approved");
    const put1 = await call("PUT", "/v1/apps/8/rules", { rules: JSON.stringify(a) });
    expect(put1.status).toBe(200);
    expect(await put1.json()).toEqual({ appId: "8", version: 1 });
    const first = await stored(8);
    expect(first).toMatchObject({ appId: "8", version: 1 });
    expect(JSON.parse(first.rules)).toEqual(a);
    expect(new Date(first.updatedAt).toISOString()).toBe(first.updatedAt);

    // Same content, written differently: same version.
    const again = await call("PUT", "/v1/apps/8/rules", { rules: JSON.stringify(a, null, 2) });
    expect(await again.json()).toEqual({ appId: "8", version: 1 });

    const b = rulesOf("Order {{order_no}} shipped");
    expect(await (await call("PUT", "/v1/apps/8/rules", { rules: JSON.stringify(b) })).json()).toEqual({ appId: "8", version: 2 });
    expect(JSON.parse((await stored(8)).rules)).toEqual(b);

    // Back to the first content: a change, so a new version; the content itself is stored once.
    expect(await (await call("PUT", "/v1/apps/8/rules", { rules: JSON.stringify(a) })).json()).toEqual({ appId: "8", version: 3 });
    const contents = stack.store.db.prepare(`SELECT COUNT(*) AS n FROM rule_set_contents`).get() as { n: number };
    expect(contents.n).toBe(2);
    // Another app's rules are its own.
    expect((await call("GET", "/v1/apps/9/rules")).status).toBe(404);
  });

  it("refuses an invalid rule set with a 400 naming the path, and keeps the stored one", async () => {
    const good = rulesOf("Kept");
    await call("PUT", "/v1/apps/10/rules", { rules: JSON.stringify(good) });
    const bad = rulesOf("");
    const response = await call("PUT", "/v1/apps/10/rules", { rules: JSON.stringify(bad) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string; details: { path: string; message: string }[] } };
    expect(body.error.code).toBe("invalid_rules");
    expect(body.error.details.map((d) => d.path)).toContain("rules.rules[0].message.title");
    const kept = await stored(10);
    expect(kept.version).toBe(1);
    expect(JSON.parse(kept.rules)).toEqual(good);

    // Not a string, an unknown field, a bad app ID: each named.
    const notString = await call("PUT", "/v1/apps/10/rules", { rules: good });
    expect(notString.status).toBe(400);
    expect(await notString.json()).toMatchObject({ error: { code: "invalid_request", details: [{ path: "rules" }] } });
    const extra = await call("PUT", "/v1/apps/10/rules", { rules: JSON.stringify(good), appId: 10 });
    expect(extra.status).toBe(400);
    const badApp = await call("PUT", "/v1/apps/0/rules", { rules: JSON.stringify(good) });
    expect(badApp.status).toBe(400);
    expect(await badApp.json()).toMatchObject({ error: { details: [{ path: "appId" }] } });
    expect((await stored(10)).version).toBe(1);
  });

  it("record-page notifications keep the stored rule set current, writing only when it changed", async () => {
    const appId = stack.demoAppId;
    const { id: recordId } = stack.kintone.addRecord(appId, { order_no: "R-1" });
    const a = rulesOf("From the record page");
    expect((await stack.notify(approvalRequest(recordId, a))).status).toBe(202);
    const first = await stored(appId);
    expect(JSON.parse(first.rules)).toEqual(a);
    // The settings page registering the same rule set finds it current.
    expect(await (await call("PUT", `/v1/apps/${appId}/rules`, { rules: JSON.stringify(a) })).json()).toEqual({
      appId: String(appId),
      version: first.version,
    });
    expect((await stack.notify(approvalRequest(recordId, a))).status).toBe(202);
    expect((await stored(appId)).version).toBe(first.version);

    const b = rulesOf("Changed by the admin");
    expect((await stack.notify(approvalRequest(recordId, b))).status).toBe(202);
    const second = await stored(appId);
    expect(second.version).toBe(first.version + 1);
    expect(JSON.parse(second.rules)).toEqual(b);
  });
});

describe("POST /v1/ping", () => {
  it("checks the rule set in the body: valid with its count, or each problem's path", async () => {
    const ok = await call("POST", "/v1/ping", { rules: JSON.stringify(rulesOf("Fine")) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, version: expect.any(String), rules: { valid: true, count: 1 } });

    const bad = await call("POST", "/v1/ping", { rules: JSON.stringify(rulesOf("")) });
    expect(bad.status).toBe(200);
    const answer = (await bad.json()) as { rules: { valid: boolean; errors: { path: string; message: string; ja: string }[] } };
    expect(answer.rules.valid).toBe(false);
    // Each problem in both languages, so the settings page shows the admin's.
    expect(answer.rules.errors).toContainEqual({
      path: "rules[0].message.title",
      message: expect.stringContaining("empty"),
      ja: expect.stringContaining("入力してください"),
    });

    expect((await call("POST", "/v1/ping", { rules: "{}" }, "not-the-secret-0123456789")).status).toBe(401);
  });
});
