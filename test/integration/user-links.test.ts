import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RELAY_TEXT_CATALOGUE } from "../../common/i18n/relay-texts.js";
import { DEMO_APP_ID } from "../../emulators/demo-app.js";
import { UserReconnectNeededError } from "../../relay/src/links/act-as-user.js";
import { createTokenBox, TokenBoxError } from "../../relay/src/links/token-box.js";
import { newEventId } from "../helpers/line-webhook.js";
import { ALICE, BOB, LINK_APP_ID, TEST_TOKEN_KEY, startLinkingStack, type LinkingStack } from "../helpers/linking-stack.js";
import { waitFor } from "../helpers/start-stack.js";

/**
 * Linking kintone users to LINE users through real HTTP, as a phone does it: `connect` in LINE,
 * the start link, kintone's OAuth (login cookie, authorization, code), the relay's callback,
 * LINE's account-link page and its accountLink webhook event. Then ActAsUser calling kintone as
 * the linked user.
 */
const USER_A = "U" + "a1".repeat(16);
const USER_B = "U" + "b2".repeat(16);
const ja = RELAY_TEXT_CATALOGUE.ja;
const en = RELAY_TEXT_CATALOGUE.en;

let stack: LinkingStack;
beforeEach(async () => {
  stack = await startLinkingStack();
});
afterEach(async (context) => {
  // A failed test shows what the relay said last: which step refused, and why.
  if (context.task.result?.state === "fail") for (const line of stack.logger.lines.slice(-25)) console.log(JSON.stringify(line));
  await stack.close();
});

/** The account-link event LINE would send, from `userId`, naming `nonce`. */
function accountLinkEvent(userId: string, nonce: string, result: "ok" | "failed" = "ok") {
  return {
    type: "accountLink",
    mode: "active",
    timestamp: Date.now(),
    source: { type: "user", userId },
    webhookEventId: newEventId(),
    deliveryContext: { isRedelivery: false },
    replyToken: stack.line.issueReplyToken({ userId }),
    link: { result, nonce },
  };
}

/** Runs the flow up to the redirect to LINE's account-link page, and returns that address unvisited. */
async function untilAccountLinkPage(kintoneUser: string, lineUser: string) {
  const start = await stack.requestStartLink(lineUser);
  const browser = stack.browser(kintoneUser, lineUser);
  const stopped = await browser.open(start, (next) => next.startsWith(stack.accessUrl));
  expect(stopped.url.startsWith(`${stack.accessUrl}/dialog/bot/accountLink?`)).toBe(true);
  return { browser, accountLinkUrl: stopped.url, nonce: new URL(stopped.url).searchParams.get("nonce") ?? "" };
}

const rawRows = (sql: string) => stack.store.db.prepare(sql).all() as Array<Record<string, unknown>>;

describe("connecting kintone users to LINE users", () => {
  it("two users link end to end; GET /v1/links lists both; the refresh token is stored sealed", async () => {
    const start = await stack.requestStartLink(USER_A);
    expect(start.startsWith(`${stack.relayUrl}/connect/start?t=`)).toBe(true);
    // The reply LINE accepted is a reply to `connect`, never a push.
    expect(stack.line.delivered.filter((d) => d.kind !== "reply")).toEqual([]);

    const page = await stack.browser(ALICE.code, USER_A).open(start);
    // start -> kintone's authorization -> the relay's callback -> LINE's account-link page.
    expect(page.hops.map((hop) => new URL(hop).origin + new URL(hop).pathname)).toEqual([
      `${stack.relayUrl}/connect/start`,
      `${stack.kintoneUrl}/oauth2/authorization`,
      `${stack.relayUrl}/connect/kintone/callback`,
      `${stack.accessUrl}/dialog/bot/accountLink`,
    ]);
    const authorization = new URL(page.hops[1] ?? "");
    expect(Object.fromEntries(authorization.searchParams)).toEqual({
      client_id: "relay-test-client",
      redirect_uri: `${stack.relayUrl}/connect/kintone/callback`,
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      response_type: "code",
      scope: "k:app_record:read k:app_record:write k:app_settings:read",
    });
    expect(page.status).toBe(200);

    const alice = await waitFor(() => stack.store.userLinks.getLinkByLineUser(USER_A), 10_000, "alice's link");
    expect(alice).toEqual({ kintoneUserCode: "alice", kintoneUserName: "Alice Sato", lineUserId: USER_A, linkedAt: expect.any(Number), state: "active" });
    // The accountLink event was LINE's, signed, and the relay answered it with "connected as".
    const sent = stack.line.sentWebhooks.at(-1);
    expect(sent?.status).toBe(200);
    const event = (JSON.parse(sent?.rawBody ?? "{}") as { events: Array<{ type: string; replyToken: string }> }).events[0];
    expect(event?.type).toBe("accountLink");
    expect(await stack.replyTo(event?.replyToken ?? "")).toEqual([ja.connectedAs.replace("{{name}}", "Alice Sato")]);

    // kintone learned who she is from a record the relay added with her token: she is its creator.
    const linkRecords = stack.kintone.requests.filter(
      (r) => r.path === "/k/v1/record.json" && String(r.query.app ?? (r.body as { app?: unknown } | undefined)?.app) === String(LINK_APP_ID),
    );
    expect(linkRecords.map((r) => [r.effectiveMethod, r.actor])).toEqual([
      ["POST", { method: "oauth", user: "alice", clientId: "relay-test-client" }],
      ["GET", { method: "oauth", user: "alice", clientId: "relay-test-client" }],
    ]);

    await stack.link(BOB.code, USER_B);
    const listed = await stack.v1("GET", "/v1/links");
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({
      links: [
        { kintoneUserCode: "alice", kintoneUserName: "Alice Sato", lineUserId: USER_A, linkedAt: expect.any(Number), state: "active" },
        { kintoneUserCode: "bob", kintoneUserName: "Bob Suzuki", lineUserId: USER_B, linkedAt: expect.any(Number), state: "active" },
      ],
    });

    // At rest: sealed with RELAY_TOKEN_KEY for that user, never the token itself.
    await stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1");
    const refreshToken = stack.kintone.oauthTokenRequests.find((r) => r.grantType === "refresh_token")?.params.refresh_token ?? "";
    expect(refreshToken.length).toBeGreaterThan(10);
    const rows = rawRows(`SELECT kintone_user_code, refresh_token_sealed FROM user_links ORDER BY kintone_user_code`);
    const sealed = String(rows[0]?.refresh_token_sealed);
    expect(sealed).toMatch(/^v1\./);
    expect(JSON.stringify(rows)).not.toContain(refreshToken);
    expect(createTokenBox(Buffer.from(TEST_TOKEN_KEY, "hex")).open(sealed, "alice")).toBe(refreshToken);
    expect(() => createTokenBox(Buffer.alloc(32, 1)).open(sealed, "alice")).toThrow(TokenBoxError);
    expect(() => createTokenBox(Buffer.from(TEST_TOKEN_KEY, "hex")).open(sealed, "bob")).toThrow(TokenBoxError);
    // Nothing of the flow is kept in the clear either.
    expect(JSON.stringify(rawRows(`SELECT * FROM connect_starts`))).not.toContain(new URL(start).searchParams.get("t"));
    expect(rawRows(`SELECT refresh_token_sealed FROM connect_nonces`).every((row) => row.refresh_token_sealed === null)).toBe(true);
  });

  it("pages speak the browser's language: English when it asks for English first, else Japanese", async () => {
    const english = await stack.browser(ALICE.code, USER_A, "en-US,en;q=0.9,ja;q=0.5").open(`${stack.relayUrl}/connect/start?t=nope`);
    expect(english.status).toBe(400);
    expect(english.body).toContain('<html lang="en">');
    expect(english.body).toContain(en.connectPageStartExpired);
    expect(english.headers.get("cache-control")).toBe("no-store");
    expect(english.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(english.body).not.toContain("<script");
    const japanese = await stack.browser(ALICE.code, USER_A, "fr-FR").open(`${stack.relayUrl}/connect/start?t=nope`);
    expect(japanese.body).toContain('<html lang="ja">');
    expect(japanese.body).toContain(ja.connectPageStartExpired);
  });

  it("a start link works once; a used or expired one is refused with a page, nothing stored", async () => {
    const start = await stack.requestStartLink(USER_A);
    const browser = stack.browser(ALICE.code, USER_A);
    const first = await browser.get(start);
    expect(first.status).toBe(302);
    expect(first.headers.get("location")?.startsWith(`${stack.kintoneUrl}/oauth2/authorization?`)).toBe(true);
    const cookie = first.headers.getSetCookie().find((header) => header.startsWith("relay_connect="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\/connect/);
    // http://localhost: no Secure (a browser would drop the cookie); RELAY_PUBLIC_URL on https sets it.
    expect(cookie).not.toMatch(/Secure/);

    const again = await browser.open(start);
    expect(again.status).toBe(400);
    expect(again.body).toContain(ja.connectPageStartExpired);

    const late = await stack.requestStartLink(USER_A);
    stack.advance(10 * 60_000 + 1);
    const expired = await stack.browser(ALICE.code, USER_A).open(late);
    expect(expired.status).toBe(400);
    expect(expired.hops).toHaveLength(1);
    expect(rawRows(`SELECT * FROM connect_states`)).toHaveLength(1);
    expect(await stack.store.userLinks.listLinks()).toEqual([]);
  });

  it("the callback needs the state's own browser (its cookie), unspent and unexpired; refused, nothing is stored", async () => {
    const start = await stack.requestStartLink(USER_A);
    const browser = stack.browser(ALICE.code, USER_A);
    const atCallback = await browser.open(start, (next) => next.startsWith(`${stack.relayUrl}/connect/kintone/callback`));
    const callback = atCallback.url;
    expect(new URL(callback).searchParams.get("code")).toBeTruthy();

    // The same address in another browser (no cookie): refused, and the state stays for its own browser.
    const elsewhere = await stack.browser(ALICE.code, USER_A).open(callback);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body).toContain(ja.connectPageStateInvalid);
    expect(stack.kintone.oauthTokenRequests).toHaveLength(0);
    expect(rawRows(`SELECT * FROM connect_nonces`)).toHaveLength(0);

    // Its own browser, eleven minutes late: expired.
    stack.advance(11 * 60_000);
    const late = await browser.open(callback);
    expect(late.status).toBe(400);
    expect(late.body).toContain(ja.connectPageStateInvalid);
    expect(stack.kintone.oauthTokenRequests).toHaveLength(0);
    expect(rawRows(`SELECT * FROM connect_nonces`)).toHaveLength(0);
    expect(await stack.store.userLinks.listLinks()).toEqual([]);
  });

  it("a state is spent once, and a code kintone already exchanged binds nothing", async () => {
    await stack.link(ALICE.code, USER_A);
    // A callback address opened twice: the state was spent by the first.
    const start = await stack.requestStartLink(USER_B);
    const browser = stack.browser(BOB.code, USER_B);
    const atCallback = await browser.open(start, (next) => next.startsWith(`${stack.relayUrl}/connect/kintone/callback`));
    const done = await browser.open(atCallback.url);
    expect(done.url.startsWith(stack.accessUrl)).toBe(true);
    const replayed = await browser.open(atCallback.url);
    expect(replayed.status).toBe(400);
    expect(replayed.body).toContain(ja.connectPageStateInvalid);

    // A fresh state of Bob's browser with the code kintone already exchanged: kintone refuses it.
    const nonces = rawRows(`SELECT * FROM connect_nonces`).length;
    const second = await stack.requestStartLink(USER_B);
    const toKintone = await browser.get(second);
    const state = new URL(toKintone.headers.get("location") ?? "").searchParams.get("state") ?? "";
    const usedCode = new URL(atCallback.url).searchParams.get("code") ?? "";
    const refused = await browser.open(`${stack.relayUrl}/connect/kintone/callback?code=${encodeURIComponent(usedCode)}&state=${encodeURIComponent(state)}`);
    expect(refused.status).toBe(502);
    expect(refused.body).toContain(ja.connectPageKintoneFailed);
    expect(stack.kintone.oauthTokenRequests.at(-1)).toMatchObject({ grantType: "authorization_code", status: 400, error: "invalid_grant" });
    expect(rawRows(`SELECT * FROM connect_nonces`)).toHaveLength(nonces);
    expect((await stack.store.userLinks.listLinks()).map((link) => link.kintoneUserCode)).toEqual(["alice", "bob"]);
  });

  it("kintone's refusal at authorization (a user not allowed) is a page; nothing is stored", async () => {
    await stack.close();
    stack = await startLinkingStack({ allowedUsers: ["bob"] });
    const start = await stack.requestStartLink(USER_A);
    const page = await stack.browser(ALICE.code, USER_A).open(start);
    expect(page.status).toBe(400);
    expect(page.body).toContain("access_denied");
    expect(stack.kintone.oauthTokenRequests).toHaveLength(0);
    expect(rawRows(`SELECT * FROM connect_nonces`)).toHaveLength(0);
  });

  it("a forged nonce, a nonce sent by another LINE user, an expired nonce and a failed link bind nothing", async () => {
    // Forged: LINE's event names a nonce the relay never made.
    const forged = await stack.line.sendWebhookEvents([accountLinkEvent(USER_A, "forged-nonce-0123456789abcdef")]);
    expect(forged?.status).toBe(200);
    await waitFor(() => stack.logger.lines.some((line) => line.message === "account link bound nothing" && line.reason === "unknown_nonce"), 10_000, "the forged nonce refused");

    // Alice's nonce (made for USER_A) in an event from USER_B: refused, and spent.
    const { accountLinkUrl, nonce, browser } = await untilAccountLinkPage(ALICE.code, USER_A);
    const stolen = accountLinkEvent(USER_B, nonce);
    await stack.line.sendWebhookEvents([stolen]);
    expect(await stack.replyTo(stolen.replyToken)).toEqual([ja.connectNotCompleted]);
    await waitFor(() => stack.logger.lines.some((line) => line.message === "account link bound nothing" && line.reason === "other_user"), 10_000, "other user refused");
    // USER_A then opens LINE's page: LINE says ok, but the nonce was spent by the attempt.
    const page = await browser.open(accountLinkUrl);
    expect(page.status).toBe(200);
    await waitFor(() => stack.logger.lines.some((line) => line.message === "account link bound nothing" && line.reason === "used"), 10_000, "the spent nonce refused");

    // LINE says the link failed.
    const failing = await untilAccountLinkPage(ALICE.code, USER_A);
    const failed = accountLinkEvent(USER_A, failing.nonce, "failed");
    await stack.line.sendWebhookEvents([failed]);
    await waitFor(() => stack.logger.lines.some((line) => line.message === "account link bound nothing" && line.reason === "failed"), 10_000, "the failed link");

    // Expired (last: the relay's clock moves on, and replies to LINE's real-time events lapse with it): the relay's 10 minutes passed between kintone's callback and LINE's page.
    const late = await untilAccountLinkPage(ALICE.code, USER_A);
    stack.advance(10 * 60_000 + 1);
    expect((await late.browser.open(late.accountLinkUrl)).status).toBe(200);
    await waitFor(() => stack.logger.lines.some((line) => line.message === "account link bound nothing" && line.reason === "expired"), 10_000, "the expired nonce refused");

    expect(await stack.store.userLinks.listLinks()).toEqual([]);
    expect((await (await stack.v1("GET", "/v1/links")).json()) as unknown).toEqual({ links: [] });
  });

  it("connect from a group is refused politely; the reply is a reply", async () => {
    const token = await stack.sendText(USER_A, "ＣＯＮＮＥＣＴ", { groupId: "C" + "1".repeat(32) });
    expect(await stack.replyTo(token)).toEqual([ja.connectOneToOneOnly]);
    expect(stack.line.issuedLinkTokens).toHaveLength(0);
    expect(stack.line.delivered.filter((d) => d.kind !== "reply")).toEqual([]);
  });

  it("disconnect removes the sender's link; DELETE /v1/links/{code} the operator's way; an app key cannot", async () => {
    await stack.link(ALICE.code, USER_A);
    await stack.link(BOB.code, USER_B);
    expect(await stack.replyTo(await stack.sendText(USER_A, " 連携解除 "))).toEqual([ja.disconnected]);
    expect(await stack.store.userLinks.getLinkByLineUser(USER_A)).toBeUndefined();
    expect(await stack.replyTo(await stack.sendText(USER_A, "Disconnect"))).toEqual([ja.notConnected]);

    const appKey = await (await stack.v1("GET", `/v1/apps/${DEMO_APP_ID}/key`)).json() as { key: string };
    const withAppKey = await fetch(`${stack.relayUrl}/v1/links`, { headers: { authorization: `Bearer ${appKey.key}`, "x-relay-app": String(DEMO_APP_ID) } });
    expect(withAppKey.status).toBe(403);
    const deleteWithAppKey = await fetch(`${stack.relayUrl}/v1/links/bob`, { method: "DELETE", headers: { authorization: `Bearer ${appKey.key}`, "x-relay-app": String(DEMO_APP_ID) } });
    expect(deleteWithAppKey.status).toBe(403);

    expect((await stack.v1("DELETE", "/v1/links/bob")).status).toBe(204);
    expect((await stack.v1("DELETE", "/v1/links/bob")).status).toBe(404);
    expect(await stack.store.userLinks.listLinks()).toEqual([]);
  });
});

describe("acting as a linked kintone user", () => {
  it("refreshes once for 5 concurrent calls after kintone expired the access tokens, and never uses the API token", async () => {
    await stack.link(ALICE.code, USER_A);
    const before = stack.kintone.requests.length;
    await stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1");
    const refreshes = () => stack.kintone.oauthTokenRequests.filter((r) => r.grantType === "refresh_token" && r.status === 200).length;
    expect(refreshes()).toBe(1);

    stack.kintone.expireAccessTokens();
    const records = await Promise.all(Array.from({ length: 5 }, () => stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1")));
    expect(records.every((record) => Object.values(record).some((field) => field.type === "CREATOR" && (field.value as { code: string }).code === "alice"))).toBe(true);
    expect(refreshes()).toBe(2);

    const comment = await stack.actAsUser.addComment("alice", { appId: String(LINK_APP_ID), recordId: "1", text: "from LINE" });
    expect(comment.id).toBeTruthy();
    const process = await stack.actAsUser.getProcess("alice", String(DEMO_APP_ID));
    expect(process.actions.map((action) => action.name)).toContain("Approve");

    const asUser = stack.kintone.requests.slice(before);
    expect(asUser.length).toBeGreaterThanOrEqual(13); // 1 + 5 refused + 5 retried + comment + process
    // Bearer tokens only: the 5 refused ones (401, no actor), every other one as alice.
    expect(asUser.every((r) => r.headers["x-cybozu-api-token"] === undefined && r.headers.authorization?.startsWith("Bearer "))).toBe(true);
    expect(asUser.filter((r) => r.status === 401)).toHaveLength(5);
    expect(asUser.filter((r) => r.status !== 401).every((r) => r.actor?.method === "oauth" && r.actor.user === "alice")).toBe(true);
  });

  it("a stored token that does not open with RELAY_TOKEN_KEY (the key changed) is 'reconnect', and no refresh is tried", async () => {
    await stack.link(ALICE.code, USER_A);
    await stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1");
    // As if RELAY_TOKEN_KEY was replaced: the row holds a token sealed under another key.
    const otherKey = createTokenBox(Buffer.alloc(32, 9)).seal("some-refresh-token", "alice");
    stack.store.db.prepare(`UPDATE user_links SET refresh_token_sealed = ? WHERE kintone_user_code = 'alice'`).run(otherKey);
    stack.kintone.expireAccessTokens();
    const tokenRequests = stack.kintone.oauthTokenRequests.length;
    await expect(stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1")).rejects.toBeInstanceOf(UserReconnectNeededError);
    expect(stack.kintone.oauthTokenRequests).toHaveLength(tokenRequests);
    expect(await stack.store.userLinks.getLinkByKintoneUser("alice")).toMatchObject({ state: "reconnect" });
  });

  it("a revoked token marks the link 'reconnect' and throws UserReconnectNeededError; the API token is never tried", async () => {
    await stack.link(ALICE.code, USER_A);
    await stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1");
    stack.kintone.revokeOAuthTokens("alice");
    const before = stack.kintone.requests.length;
    await expect(stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1")).rejects.toBeInstanceOf(UserReconnectNeededError);
    expect(await stack.store.userLinks.getLinkByKintoneUser("alice")).toMatchObject({ state: "reconnect" });
    expect(stack.kintone.oauthTokenRequests.at(-1)).toMatchObject({ grantType: "refresh_token", status: 400, error: "invalid_grant" });
    // Later calls refuse at once, without asking kintone.
    await expect(stack.actAsUser.addComment("alice", { appId: String(LINK_APP_ID), recordId: "1", text: "x" })).rejects.toBeInstanceOf(UserReconnectNeededError);
    const after = stack.kintone.requests.slice(before);
    expect(after).toHaveLength(1);
    expect(after.every((r) => r.headers["x-cybozu-api-token"] === undefined && r.status === 401)).toBe(true);
    // GET /v1/links shows it.
    const listed = (await (await stack.v1("GET", "/v1/links")).json()) as { links: Array<{ state: string }> };
    expect(listed.links.map((link) => link.state)).toEqual(["reconnect"]);

    // Connecting again makes it active.
    await stack.link(ALICE.code, USER_A);
    expect(await stack.store.userLinks.getLinkByKintoneUser("alice")).toMatchObject({ state: "active" });
    await stack.actAsUser.getRecord("alice", String(LINK_APP_ID), "1");
  });
});
