import { KintoneRestAPIClient, KintoneRestAPIError } from "@kintone/rest-api-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KintoneEmulator, createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { type RunningServer, listen } from "../../emulators/listen.js";

// kintone OAuth through real HTTP: a browser logs in, authorizes, the client exchanges the code,
// and @kintone/rest-api-client (auth: { oAuthToken }, unchanged) acts in kintone as that user.

const T0 = Date.UTC(2026, 10, 21, 5, 0, 0);
const FLOW_APP = 1;
const LINK_APP = 2;
const SATO = { code: "sato", name: "Sato Hanako" };
const SUZUKI = { code: "suzuki", name: "Suzuki Ichiro" };
const TANAKA = { code: "tanaka", name: "Tanaka Ken" };
const OUTSIDER = { code: "yamada", name: "Yamada Jiro" };
const CLIENT = {
  clientId: "relay-client",
  clientSecret: "relay-secret-0123456789",
  redirectUri: "https://relay.example.com/connect/kintone/callback",
};
const RECORD_SCOPES = "k:app_record:read k:app_record:write";

let clock = T0;
let kintone: KintoneEmulator;
let server: RunningServer;

beforeEach(async () => {
  clock = T0;
  kintone = createKintoneEmulator({ now: () => clock });
  for (const user of [SATO, SUZUKI, TANAKA, OUTSIDER]) kintone.addUser(user);
  kintone.addApp({
    id: FLOW_APP,
    name: "Expenses",
    fields: { title: { type: "SINGLE_LINE_TEXT", code: "title", label: "Title" } },
    process: {
      enable: true,
      states: ["Draft", "Manager", "Directors", "Finance", "Done"],
      actions: [
        { name: "Submit", from: "Draft", to: "Manager" },
        { name: "Approve", from: "Manager", to: "Directors" },
        { name: "Agree", from: "Directors", to: "Finance" },
        { name: "Pay", from: "Finance", to: "Done" },
      ],
      assignees: {
        Manager: { type: "ONE", users: ["sato", "suzuki"] },
        Directors: { type: "ALL", users: ["sato", "tanaka"] },
        Finance: { type: "ANY", users: ["suzuki", "tanaka"] },
      },
    },
    apiTokens: [{ token: "flow-token" }],
  });
  kintone.addApp({
    id: LINK_APP,
    name: "LINE links",
    fields: { line_user: { type: "SINGLE_LINE_TEXT", code: "line_user", label: "LINE user" } },
    apiTokens: [{ token: "link-token" }],
    administrators: ["tanaka"],
  });
  kintone.registerOAuthClient({ ...CLIENT, allowedUsers: ["sato", "suzuki", "tanaka"] });
  server = await listen(kintone.app, 0);
});

afterEach(async () => {
  await server.close();
});

// --- Helpers: a browser, the client's back end, kintone's answers ---------------------------------

function authorizationUrl(params: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    client_id: CLIENT.clientId,
    redirect_uri: CLIENT.redirectUri,
    state: "state-123",
    response_type: "code",
    scope: RECORD_SCOPES,
    ...params,
  });
  return `${server.url}/oauth2/authorization?${query}`;
}

/** A browser request that does not follow redirects. */
function browse(url: string, cookie?: string): Promise<Response> {
  return fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });
}

/** Where a 302 sends the browser. */
function location(response: Response): URL {
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location") ?? "", server.url);
}

/** The user's browser authorizes the client: the query kintone sends back to the redirect URI. */
async function authorizeAs(userCode: string, params: Record<string, string> = {}): Promise<URLSearchParams> {
  const back = location(await browse(authorizationUrl(params), kintone.sessionCookie(userCode)));
  expect(`${back.origin}${back.pathname}`).toBe(CLIENT.redirectUri);
  return back.searchParams;
}

function basic(id = CLIENT.clientId, secret = CLIENT.clientSecret): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

/** The client's back end at the token endpoint. */
async function tokenRequest(form: Record<string, string>, authorization: string | null = basic()) {
  const response = await fetch(`${server.url}/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

/** Authorization and code exchange for `userCode`: the tokens kintone issued. */
async function connect(userCode: string, scope = RECORD_SCOPES): Promise<Tokens> {
  const code = (await authorizeAs(userCode, { scope })).get("code") ?? "";
  const { status, body } = await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: CLIENT.redirectUri });
  expect(status).toBe(200);
  return body as unknown as Tokens;
}

function asUser(accessToken: string): KintoneRestAPIClient {
  return new KintoneRestAPIClient({ baseUrl: server.url, auth: { oAuthToken: accessToken } });
}

async function apiError(promise: Promise<unknown>): Promise<KintoneRestAPIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KintoneRestAPIError);
  return error as KintoneRestAPIError;
}

// --- Tests --------------------------------------------------------------------------------------

describe("the authorization code flow", () => {
  it("login, authorization, token, then REST as the user: the creator, the comment's author and the status action are the user's", async () => {
    // A browser without a session is sent to the login page, which brings it back once logged in.
    const toLogin = location(await browse(authorizationUrl()));
    expect(toLogin.pathname).toBe("/login");
    const loggedIn = await browse(new URL(`${toLogin.pathname}${toLogin.search}&user=sato`, server.url).toString());
    const setCookie = loggedIn.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/i);
    const backToAuthorization = location(loggedIn);
    expect(backToAuthorization.toString()).toBe(authorizationUrl());

    const cookie = setCookie.split(";")[0] ?? "";
    const callback = location(await browse(backToAuthorization.toString(), cookie));
    expect(`${callback.origin}${callback.pathname}`).toBe(CLIENT.redirectUri);
    expect(callback.searchParams.get("state")).toBe("state-123");
    const code = callback.searchParams.get("code") ?? "";
    expect(code).not.toBe("");

    const issued = await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: CLIENT.redirectUri });
    expect(issued.status).toBe(200);
    expect(issued.headers.get("cache-control")).toBe("no-store");
    expect(issued.body).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 3600,
      refresh_token: expect.any(String),
      scope: RECORD_SCOPES,
    });
    const sato = asUser(issued.body.access_token as string);

    // kintone has no "who am I": a record added with the token names its creator.
    const { id: linkId } = await sato.record.addRecord({ app: LINK_APP, record: { line_user: { value: "U123" } } });
    const { record: link } = await sato.record.getRecord({ app: LINK_APP, id: linkId });
    expect(link.作成者?.value).toEqual(SATO);
    expect(link.更新者?.value).toEqual(SATO);

    const { id } = kintone.addRecord(FLOW_APP, { title: "Taxi" });
    await sato.record.addRecordComment({ app: FLOW_APP, record: id, comment: { text: "Business trip" } });
    expect(kintone.comments(FLOW_APP, id).map((c) => [c.text, c.creator])).toEqual([["Business trip", SATO]]);

    await expect(
      sato.record.updateRecordStatus({ app: FLOW_APP, id, action: "Submit", assignee: "suzuki", revision: 1 }),
    ).resolves.toEqual({ revision: "3" });
    expect(kintone.getRecord(FLOW_APP, id)).toMatchObject({
      ステータス: { value: "Manager" },
      作業者: { value: [SUZUKI] },
      更新者: { value: SATO },
    });

    // What reached kintone: Sato's bearer token, never an API token.
    const rest = kintone.requests.filter((r) => r.path.startsWith("/k/v1/"));
    expect(rest).toHaveLength(4);
    for (const request of rest) {
      expect(request.headers.authorization).toBe(`Bearer ${issued.body.access_token as string}`);
      expect(request.headers["x-cybozu-api-token"]).toBeUndefined();
      expect(request.actor).toEqual({ method: "oauth", user: "sato", clientId: CLIENT.clientId });
    }
  });

  it("the login page lists the users; an unknown login name is refused", async () => {
    const page = await browse(`${server.url}/login`);
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const user of [SATO, SUZUKI, TANAKA]) expect(html).toContain(`/login?user=${user.code}`);
    const unknown = await browse(`${server.url}/login?user=nobody`);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("set-cookie")).toBeNull();
  });

  it("a code is single use: the second exchange is invalid_grant and withdraws the tokens of the first (RFC 6749 4.1.2)", async () => {
    const code = (await authorizeAs("sato")).get("code") ?? "";
    const first = await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: CLIENT.redirectUri });
    expect(first.status).toBe(200);
    const second = await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: CLIENT.redirectUri });
    expect([second.status, second.body.error]).toEqual([400, "invalid_grant"]);

    const { id } = kintone.addRecord(FLOW_APP);
    const refused = await apiError(asUser(first.body.access_token as string).record.getRecord({ app: FLOW_APP, id }));
    expect([refused.status, refused.code]).toEqual([401, "CB_OA01"]);
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: first.body.refresh_token as string });
    expect(refresh.body.error).toBe("invalid_grant");
  });

  it("a code lives 10 minutes", async () => {
    const late = (await authorizeAs("sato")).get("code") ?? "";
    const inTime = (await authorizeAs("sato")).get("code") ?? "";
    clock = T0 + 10 * 60 * 1000 - 1;
    const ok = await tokenRequest({ grant_type: "authorization_code", code: inTime, redirect_uri: CLIENT.redirectUri });
    expect(ok.status).toBe(200);
    clock = T0 + 10 * 60 * 1000;
    const expired = await tokenRequest({ grant_type: "authorization_code", code: late, redirect_uri: CLIENT.redirectUri });
    expect([expired.status, expired.body.error]).toEqual([400, "invalid_grant"]);
  });

  it("an unknown client or a redirect_uri other than the registered one gets an error page, never a redirect", async () => {
    const cookie = kintone.sessionCookie("sato");
    const attempts: Array<Record<string, string>> = [
      { redirect_uri: "https://evil.example.com/callback" },
      { redirect_uri: `${CLIENT.redirectUri}?extra=1` },
      { client_id: "someone-else" },
    ];
    for (const params of attempts) {
      const answer = await browse(authorizationUrl(params), cookie);
      expect(answer.status).toBe(400);
      expect(answer.headers.get("location")).toBeNull();
    }
  });

  it("refusals the client should hear go back to redirect_uri with error and state", async () => {
    const refusal = async (userCode: string, params: Record<string, string>) => {
      const back = await authorizeAs(userCode, params);
      expect(back.get("code")).toBeNull();
      return [back.get("error"), back.get("state")];
    };
    expect(await refusal("sato", { scope: "k:app_record:read k:everything" })).toEqual(["invalid_scope", "state-123"]);
    expect(await refusal("sato", { scope: "" })).toEqual(["invalid_scope", "state-123"]);
    expect(await refusal("sato", { response_type: "token" })).toEqual(["unsupported_response_type", "state-123"]);
    expect(await refusal("sato", { state: "" })).toEqual(["invalid_request", null]);
    // Yamada is a user, but not one the administrator allowed to use this client.
    expect(await refusal("yamada", {})).toEqual(["access_denied", "state-123"]);
  });

  it("the token endpoint authenticates the client (Basic or form) and checks redirect_uri", async () => {
    const codeFor = async () => (await authorizeAs("sato")).get("code") ?? "";

    const wrongSecret = await tokenRequest(
      { grant_type: "authorization_code", code: await codeFor(), redirect_uri: CLIENT.redirectUri },
      basic(CLIENT.clientId, "wrong"),
    );
    expect([wrongSecret.status, wrongSecret.body.error]).toEqual([401, "invalid_client"]);
    expect(wrongSecret.headers.get("www-authenticate")).toMatch(/^Basic/);

    const noClient = await tokenRequest(
      { grant_type: "authorization_code", code: await codeFor(), redirect_uri: CLIENT.redirectUri },
      null,
    );
    expect([noClient.status, noClient.body.error]).toEqual([401, "invalid_client"]);

    const otherRedirect = await tokenRequest({
      grant_type: "authorization_code",
      code: await codeFor(),
      redirect_uri: "https://relay.example.com/other",
    });
    expect([otherRedirect.status, otherRedirect.body.error]).toEqual([400, "invalid_grant"]);

    const inForm = await tokenRequest(
      {
        grant_type: "authorization_code",
        code: await codeFor(),
        redirect_uri: CLIENT.redirectUri,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      },
      null,
    );
    expect(inForm.status).toBe(200);

    const bothWays = await tokenRequest({
      grant_type: "authorization_code",
      code: await codeFor(),
      redirect_uri: CLIENT.redirectUri,
      client_secret: CLIENT.clientSecret,
    });
    expect([bothWays.status, bothWays.body.error]).toEqual([400, "invalid_request"]);

    const unsupported = await tokenRequest({ grant_type: "password", username: "sato", password: "x" });
    expect([unsupported.status, unsupported.body.error]).toEqual([400, "unsupported_grant_type"]);

    const json = await fetch(`${server.url}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basic() },
      body: JSON.stringify({ grant_type: "authorization_code", code: await codeFor(), redirect_uri: CLIENT.redirectUri }),
    });
    expect([json.status, ((await json.json()) as { error: string }).error]).toEqual([400, "invalid_request"]);

    expect(kintone.oauthTokenRequests.map((r) => [r.clientAuth, r.status, r.error ?? null])).toEqual([
      ["basic", 401, "invalid_client"],
      ["none", 401, "invalid_client"],
      ["basic", 400, "invalid_grant"],
      ["body", 200, null],
      ["basic", 400, "invalid_request"],
      ["basic", 400, "unsupported_grant_type"],
      ["basic", 400, "invalid_request"],
    ]);
  });
});

describe("scopes", () => {
  it("a token without the API's scope gets 403 CB_OA01, and kintone changes nothing", async () => {
    const { id } = kintone.addRecord(FLOW_APP, { title: "Taxi" });
    const readOnly = asUser((await connect("sato", "k:app_record:read")).access_token);
    await expect(readOnly.record.getRecord({ app: FLOW_APP, id })).resolves.toMatchObject({ record: { title: { value: "Taxi" } } });
    await expect(readOnly.record.getRecordComments({ app: FLOW_APP, record: id })).resolves.toMatchObject({ comments: [] });

    const refusals = [
      () => readOnly.record.addRecord({ app: LINK_APP, record: {} }),
      () => readOnly.record.addRecordComment({ app: FLOW_APP, record: id, comment: { text: "hi" } }),
      () => readOnly.record.updateRecordStatus({ app: FLOW_APP, id, action: "Submit", assignee: "sato" }),
      () => readOnly.app.getProcessManagement({ app: FLOW_APP }),
    ];
    for (const refused of refusals) {
      const error = await apiError(refused());
      expect([error.status, error.code, error.message]).toEqual([403, "CB_OA01", "[403] [CB_OA01] Cannot access protected resource. (" + error.id + ")"]);
    }
    expect(kintone.getRecord(FLOW_APP, id).ステータス?.value).toBe("Draft");
    expect(kintone.comments(FLOW_APP, id)).toEqual([]);
    expect(kintone.getRecord(FLOW_APP, id).$revision?.value).toBe("1");
  });

  it("k:app_settings:read opens the process settings: action names and who may be chosen, ALL included", async () => {
    const tokens = await connect("sato", `${RECORD_SCOPES} k:app_settings:read`);
    const settings = await asUser(tokens.access_token).app.getProcessManagement({ app: FLOW_APP });
    expect(settings.actions?.map((a) => [a.name, a.from, a.to])).toEqual([
      ["Submit", "Draft", "Manager"],
      ["Approve", "Manager", "Directors"],
      ["Agree", "Directors", "Finance"],
      ["Pay", "Finance", "Done"],
    ]);
    const entities = (codes: string[]) => codes.map((code) => ({ entity: { type: "USER", code }, includeSubs: false }));
    expect(settings.states?.Manager?.assignee).toEqual({ type: "ONE", entities: entities(["sato", "suzuki"]) });
    expect(settings.states?.Directors?.assignee).toEqual({ type: "ALL", entities: entities(["sato", "tanaka"]) });
    expect(settings.states?.Finance?.assignee).toEqual({ type: "ANY", entities: entities(["suzuki", "tanaka"]) });
  });
});

describe("token lifetime, refresh and revocation", () => {
  it("refresh gives a new access token under the same refresh token, as often as asked", async () => {
    const first = await connect("sato");
    const { id } = kintone.addRecord(FLOW_APP);

    clock = T0 + 3600 * 1000; // an hour later the access token is spent
    const expired = await apiError(asUser(first.access_token).record.getRecord({ app: FLOW_APP, id }));
    expect([expired.status, expired.code]).toEqual([401, "CB_OA01"]);

    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, refresh_token: first.refresh_token, scope: RECORD_SCOPES });
    expect(refreshed.body.access_token).not.toBe(first.access_token);
    await expect(asUser(refreshed.body.access_token as string).record.getRecord({ app: FLOW_APP, id })).resolves.toBeDefined();

    const again = await tokenRequest({ grant_type: "refresh_token", refresh_token: first.refresh_token });
    expect([again.status, again.body.refresh_token]).toEqual([200, first.refresh_token]);

    const wider = await tokenRequest({ grant_type: "refresh_token", refresh_token: first.refresh_token, scope: "k:app_settings:read" });
    expect([wider.status, wider.body.error]).toEqual([400, "invalid_scope"]);

    expect(kintone.oauthTokenRequests.map((r) => [r.grantType, r.status, r.user ?? null])).toEqual([
      ["authorization_code", 200, "sato"],
      ["refresh_token", 200, "sato"],
      ["refresh_token", 200, "sato"],
      ["refresh_token", 400, null],
    ]);
  });

  it("expireAccessTokens() makes every access token answer 401 until the client refreshes", async () => {
    const tokens = await connect("suzuki");
    const { id } = kintone.addRecord(FLOW_APP);
    kintone.expireAccessTokens();
    const response = await fetch(`${server.url}/k/v1/record.json?app=${FLOW_APP}&id=${id}`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: "CB_OA01", id: expect.any(String), message: "Cannot access protected resource." });
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    await expect(asUser(refreshed.body.access_token as string).record.getRecord({ app: FLOW_APP, id })).resolves.toBeDefined();
  });

  it("revokeOAuthTokens(user): refresh is invalid_grant, access tokens 401; other users keep theirs", async () => {
    const sato = await connect("sato");
    const suzuki = await connect("suzuki");
    const { id } = kintone.addRecord(FLOW_APP);
    kintone.revokeOAuthTokens("sato");

    const refused = await apiError(asUser(sato.access_token).record.getRecord({ app: FLOW_APP, id }));
    expect([refused.status, refused.code]).toEqual([401, "CB_OA01"]);
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: sato.refresh_token });
    expect([refresh.status, refresh.body.error]).toEqual([400, "invalid_grant"]);
    await expect(asUser(suzuki.access_token).record.getRecord({ app: FLOW_APP, id })).resolves.toBeDefined();
  });

  it("an unknown bearer token is 401 CB_OA01; no credentials at all is still CB_AU01; API tokens still act as Administrator", async () => {
    const { id } = kintone.addRecord(FLOW_APP);
    const forged = await apiError(asUser("not-a-token").record.getRecord({ app: FLOW_APP, id }));
    expect([forged.status, forged.code]).toEqual([401, "CB_OA01"]);
    const none = await fetch(`${server.url}/k/v1/record.json?app=${FLOW_APP}&id=${id}`);
    expect([none.status, ((await none.json()) as { code: string }).code]).toEqual([401, "CB_AU01"]);

    const byToken = new KintoneRestAPIClient({ baseUrl: server.url, auth: { apiToken: "link-token" } });
    const { id: linkId } = await byToken.record.addRecord({ app: LINK_APP, record: {} });
    expect(kintone.getRecord(LINK_APP, linkId).作成者?.value).toEqual({ code: "Administrator", name: "Administrator" });
    expect(kintone.requests.at(-1)?.actor).toEqual({ method: "apiToken", user: "Administrator" });
  });
});

describe("adding records as a user", () => {
  it("setting 作成者 needs app management rights: refused (403 CB_NO02) for Sato, allowed for the app's administrator", async () => {
    const sato = asUser((await connect("sato")).access_token);
    const withCreator = { line_user: { value: "U1" }, 作成者: { value: { code: "suzuki" } } };
    const refused = await apiError(sato.record.addRecord({ app: LINK_APP, record: withCreator }));
    expect([refused.status, refused.code]).toEqual([403, "CB_NO02"]);
    const bulk = await apiError(sato.record.addRecords({ app: LINK_APP, records: [{}, withCreator] }));
    expect([bulk.status, bulk.code]).toEqual([403, "CB_NO02"]);
    expect(kintone.requests.filter((r) => r.status === 200)).toEqual([]);

    const tanaka = asUser((await connect("tanaka")).access_token);
    const { id } = await tanaka.record.addRecord({ app: LINK_APP, record: withCreator });
    expect(kintone.getRecord(LINK_APP, id)).toMatchObject({ 作成者: { value: { code: "suzuki" } }, 更新者: { value: TANAKA } });
  });
});

describe("process management as the user (update-status)", () => {
  it("ONE: the next assignee must be chosen (GAIA_SA01); only the assignee may act (GAIA_NT01)", async () => {
    const sato = asUser((await connect("sato")).access_token);
    const suzuki = asUser((await connect("suzuki")).access_token);
    const { id } = kintone.addRecord(FLOW_APP, { title: "Hotel" });

    const unchosen = await apiError(sato.record.updateRecordStatus({ app: FLOW_APP, id, action: "Submit" }));
    expect([unchosen.status, unchosen.code]).toEqual([400, "GAIA_SA01"]);
    await sato.record.updateRecordStatus({ app: FLOW_APP, id, action: "Submit", assignee: "suzuki" });

    const notMine = await apiError(sato.record.updateRecordStatus({ app: FLOW_APP, id, action: "Approve" }));
    expect([notMine.status, notMine.code]).toEqual([400, "GAIA_NT01"]);
    await expect(suzuki.record.updateRecordStatus({ app: FLOW_APP, id, action: "Approve", revision: 3 })).resolves.toEqual({ revision: "5" });
    expect(kintone.getRecord(FLOW_APP, id)).toMatchObject({
      ステータス: { value: "Directors" },
      作業者: { value: [SATO, TANAKA] },
      更新者: { value: SUZUKI },
    });
  });

  it("ALL: each assignee acts once and leaves the list; the last one moves the status", async () => {
    const sato = asUser((await connect("sato")).access_token);
    const tanaka = asUser((await connect("tanaka")).access_token);
    const { id } = kintone.addRecord(FLOW_APP);
    kintone.runAction(FLOW_APP, id, "Submit", { assignee: "suzuki" });
    kintone.runAction(FLOW_APP, id, "Approve", { user: SUZUKI });
    const before = Number(kintone.getRecord(FLOW_APP, id).$revision?.value);

    await expect(sato.record.updateRecordStatus({ app: FLOW_APP, id, action: "Agree", revision: before })).resolves.toEqual({
      revision: String(before + 1),
    });
    expect(kintone.getRecord(FLOW_APP, id)).toMatchObject({ ステータス: { value: "Directors" }, 作業者: { value: [TANAKA] } });
    const twice = await apiError(sato.record.updateRecordStatus({ app: FLOW_APP, id, action: "Agree" }));
    expect([twice.status, twice.code]).toEqual([400, "GAIA_NT01"]);

    await expect(tanaka.record.updateRecordStatus({ app: FLOW_APP, id, action: "Agree" })).resolves.toEqual({
      revision: String(before + 3),
    });
    expect(kintone.getRecord(FLOW_APP, id)).toMatchObject({
      ステータス: { value: "Finance" },
      作業者: { value: [SUZUKI, TANAKA] },
      更新者: { value: TANAKA },
    });
  });

  it("ANY: the first assignee moves it; a stale revision is GAIA_CO02; a late or unknown action is GAIA_IL03", async () => {
    const suzuki = asUser((await connect("suzuki")).access_token);
    const tanaka = asUser((await connect("tanaka")).access_token);
    const { id } = kintone.addRecord(FLOW_APP);
    kintone.runAction(FLOW_APP, id, "Submit", { assignee: "suzuki" });
    kintone.runAction(FLOW_APP, id, "Approve", { user: SUZUKI });
    kintone.runAction(FLOW_APP, id, "Agree", { user: SATO });
    kintone.runAction(FLOW_APP, id, "Agree", { user: TANAKA });
    const revision = Number(kintone.getRecord(FLOW_APP, id).$revision?.value);

    const stale = await apiError(tanaka.record.updateRecordStatus({ app: FLOW_APP, id, action: "Pay", revision: revision - 1 }));
    expect([stale.status, stale.code]).toEqual([409, "GAIA_CO02"]);
    await expect(suzuki.record.updateRecordStatus({ app: FLOW_APP, id, action: "Pay", revision })).resolves.toEqual({
      revision: String(revision + 2),
    });
    expect(kintone.getRecord(FLOW_APP, id)).toMatchObject({ ステータス: { value: "Done" }, 作業者: { value: [] }, 更新者: { value: SUZUKI } });

    const late = await apiError(tanaka.record.updateRecordStatus({ app: FLOW_APP, id, action: "Pay" }));
    expect([late.status, late.code]).toEqual([400, "GAIA_IL03"]);
    const unknown = await apiError(tanaka.record.updateRecordStatus({ app: FLOW_APP, id, action: "Reopen" }));
    expect([unknown.status, unknown.code]).toEqual([400, "GAIA_IL03"]);
  });
});
