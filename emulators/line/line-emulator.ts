import { randomBytes, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { Hono, type Context } from "hono";
import { AccessTokenRegistry, type EmulatedChannel, type IssuedToken } from "./access-tokens.js";
import { FaultPlan, type FailOptions, type FaultKind, type RequestKind } from "./fault-injection.js";
import {
  BrowserSessions,
  createAccessApp,
  LinkTokenRegistry,
  SESSION_COOKIE,
  type AccountLinkVisit,
  type IssuedLinkToken,
} from "./account-link.js";
import { WebhookDelivery, type SentWebhook, type WebhookEventPayload, type WebhookTarget } from "./webhook-delivery.js";
import { checkMessageLimits, isPushTarget, isUserId } from "./message-limits.js";
import { lineContract } from "./contract/line-contract.js";
import { dedupeIssues, validatorFor, type ValidationIssue } from "./schema-validator.js";

/**
 * An emulator of the parts of the LINE Platform the relay uses: push / multicast / reply with
 * LINE's validation (the contract generated from @line/bot-sdk's types, contract/, + documented
 * limits), retry keys, reply
 * tokens, channel access tokens, profiles, quota, account link (link tokens, the account-link page
 * and the `accountLink` webhook event: account-link.ts), and scripted faults. `app` (api.line.me)
 * and `accessApp` (access.line.me) are Hono apps that never listen by themselves: serve them with
 * emulators/listen.ts, or call `app.request()`.
 */

export interface LineEmulatorOptions {
  /** Clock in ms; tokens, reply tokens and retry keys expire by it. */
  now?: () => number;
  channels?: EmulatedChannel[];
  longLivedTokens?: string[];
  statelessTokenTtlSeconds?: number;
  replyTokenTtlMs?: number;
  /** Monthly message quota (GET /v2/bot/message/quota); "none": no limit. Default 1,000,000. */
  monthlyQuota?: number | "none";
  /** The bot's user ID, sent as `destination` in webhooks. */
  botUserId?: string;
  /** How long a webhook POST may take before the emulator gives up (default 5,000 ms). */
  webhookTimeoutMs?: number;
}

export interface RecordedRequest {
  requestId: string;
  method: string;
  path: string;
  /** `?a=b` or "". */
  query: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  rawBody: string;
  /** Parsed JSON or form body; undefined when empty or unparseable. */
  body: unknown;
  /** The status answered; 0 when the connection was dropped without an answer. */
  status: number;
  at: number;
}

export interface SentMessage {
  id: string;
  quoteToken?: string;
}

export interface Delivery {
  kind: "push" | "multicast" | "reply";
  /** The recipients asked for (for a reply: the source of the reply token, when known). */
  to: string[];
  messages: unknown[];
  retryKey?: string;
  requestId: string;
  accessToken: string;
  at: number;
  sentMessages: SentMessage[];
  /** Recipients who blocked the account: LINE answered 200 but they did not receive it. */
  blocked: string[];
  replyToken?: string;
}

export interface ReplyTokenSource {
  userId?: string;
  groupId?: string;
  roomId?: string;
}

export interface UserProfile {
  displayName: string;
  pictureUrl?: string;
  language?: string;
  statusMessage?: string;
}

export interface GroupMemberProfile {
  displayName: string;
  pictureUrl?: string;
}

/** What Get group chat summary answers besides the ID. */
export interface GroupSummary {
  groupName: string;
  pictureUrl?: string;
}

/** A group ID as LINE issues them: C and 32 hex digits. */
const GROUP_ID = /^C[0-9a-f]{32}$/;

export const DEFAULT_CHANNEL: Readonly<EmulatedChannel> = Object.freeze({
  channelId: "2000000000",
  channelSecret: "emulator-channel-secret",
});

export const LINE_MESSAGES = {
  authHeaderRequired: "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'",
  authFailed: "Authentication failed. Confirm that the access token in the authorization header is valid.",
  invalidReplyToken: "Invalid reply token",
  invalidUserIdParameter: "The value for the 'userId' parameter is invalid",
  retryKeyAccepted: "The retry key is already accepted",
  monthlyLimit: "You have reached your monthly limit.",
  notFound: "Not found",
} as const;

/** The bot user ID webhooks name as `destination` unless the options say otherwise. */
export const DEFAULT_BOT_USER_ID = "U" + "0b07".repeat(8);

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const RETRY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const QUOTABLE_TYPES = new Set(["text", "textV2", "sticker", "image", "video"]);

type SendKind = Delivery["kind"];
type JsonBody = Record<string, unknown>;

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface AcceptedRetryKey {
  requestId: string;
  at: number;
  sentMessages?: SentMessage[];
}

interface ReplyTokenEntry {
  issuedAt: number;
  used: boolean;
  source: ReplyTokenSource;
}

function classify(method: string, path: string): RequestKind {
  if (path.startsWith("/oauth2/")) return "token";
  if (method === "POST" && path === "/v2/bot/message/push") return "push";
  if (method === "POST" && path === "/v2/bot/message/multicast") return "multicast";
  if (method === "POST" && path === "/v2/bot/message/reply") return "reply";
  if (path.startsWith("/v2/bot/message/validate/")) return "validate";
  if (path.startsWith("/v2/bot/message/quota")) return "quota";
  if (path.startsWith("/v2/bot/profile/") || /^\/v2\/bot\/group\/[^/]+\/member\/[^/]+$/.test(path)) return "profile";
  if (/^\/v2\/bot\/group\/[^/]+\/summary$/.test(path)) return "summary";
  if (method === "POST" && /^\/v2\/bot\/user\/[^/]+\/linkToken$/.test(path)) return "linkToken";
  return "other";
}

function parseBody(contentType: string, raw: string): unknown {
  if (!raw) return undefined;
  if (contentType.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** "(line: L, column: C)" from a JSON.parse error, as LINE words it; "-" when unknown. */
function jsonErrorPosition(raw: string, error: unknown): string {
  const match = /position (\d+)/.exec(error instanceof Error ? error.message : "");
  if (!match) return "(line: -, column: -)";
  const before = raw.slice(0, Number(match[1]));
  const lines = before.split("\n");
  return `(line: ${lines.length}, column: ${lines[lines.length - 1]!.length + 1})`;
}

function isObject(value: unknown): value is JsonBody {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** LINE's 400: Jackson-level problems name one property; bean-validation problems are counted. */
function invalidBody(issues: ValidationIssue[]): Answer {
  const structural = issues.find((issue) => ["unknown-property", "type", "discriminator"].includes(issue.kind));
  const message = structural
    ? `The property, '${structural.property}', in the request body is invalid (line: -, column: -)`
    : `The request body has ${issues.length} error(s)`;
  return {
    status: 400,
    body: { message, details: issues.map(({ message: detail, property }) => ({ message: detail, property })) },
  };
}


export function createLineEmulator(options: LineEmulatorOptions = {}) {
  const now = options.now ?? Date.now;
  const contract = lineContract();
  const validator = validatorFor(contract);
  const channels = (options.channels ?? [{ ...DEFAULT_CHANNEL }]).map((channel) => ({ ...channel }));
  const statelessTtlSeconds = options.statelessTokenTtlSeconds ?? 900;
  const replyTokenTtlMs = options.replyTokenTtlMs ?? 60_000;
  const tokens = new AccessTokenRegistry(now, channels, options.longLivedTokens ?? [], statelessTtlSeconds);
  const faults = new FaultPlan();

  const requests: RecordedRequest[] = [];
  const delivered: Delivery[] = [];
  const retryKeys = new Map<string, AcceptedRetryKey>();
  const replyTokens = new Map<string, ReplyTokenEntry>();
  const blockedUsers = new Set<string>();
  const profiles = new Map<string, UserProfile>();
  const groupMembers = new Map<string, GroupMemberProfile>();
  const groupSummaries = new Map<string, GroupSummary>();
  const recordOf = new WeakMap<Request, RecordedRequest>();
  let monthlyQuota: number | "none" = options.monthlyQuota ?? 1_000_000;
  let totalUsage = 0;
  let messageCounter = 600_000_000_000_000_000n;
  const linkTokens = new LinkTokenRegistry(now);
  const browserSessions = new BrowserSessions();
  const accountLinkVisits: AccountLinkVisit[] = [];
  const webhooks = new WebhookDelivery({
    now,
    destination: options.botUserId ?? DEFAULT_BOT_USER_ID,
    defaultChannelSecret: () => {
      const first = channels[0];
      if (!first) throw new Error("the emulator has no channel to sign webhooks with: pass channelSecret to setWebhook");
      return first.channelSecret;
    },
    timeoutMs: options.webhookTimeoutMs ?? 5_000,
  });

  /** A reply token as a webhook event carries it: works once, within replyTokenTtlMs. */
  function issueReplyToken(source: ReplyTokenSource = {}): string {
    const token = randomBytes(16).toString("hex");
    replyTokens.set(token, { issuedAt: now(), used: false, source: { ...source } });
    return token;
  }

  const app = new Hono();

  // ---- recording, size limit and scripted faults: every request passes here first ----
  app.use("*", async (c, next) => {
    const requestId = randomUUID();
    const url = new URL(c.req.url);
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const record: RecordedRequest = {
      requestId,
      method: c.req.method,
      path: url.pathname,
      query: url.search,
      headers,
      rawBody: "",
      body: undefined,
      status: 0,
      at: now(),
    };
    requests.push(record);
    recordOf.set(c.req.raw, record);
    c.header("x-line-request-id", requestId);

    const declaredLength = Number(headers["content-length"] ?? 0);
    if (declaredLength > MAX_BODY_BYTES) return finish(c, record, { status: 413, body: { message: "Payload Too Large" } });
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      record.rawBody = await c.req.text();
      if (Buffer.byteLength(record.rawBody) > MAX_BODY_BYTES) {
        return finish(c, record, { status: 413, body: { message: "Payload Too Large" } });
      }
      record.body = parseBody(headers["content-type"] ?? "", record.rawBody);
    }

    const kind = classify(c.req.method, url.pathname);
    const delayMs = faults.takeDelay(kind);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const fault = faults.takeOutcome(kind);
    if (fault && !fault.afterAccepting) {
      if (fault.type === "drop") return dropConnection(c, record);
      return finish(c, record, { status: fault.status, body: fault.body, headers: fault.headers });
    }

    await next();

    if (fault?.afterAccepting) {
      if (fault.type === "drop") return dropConnection(c, record);
      c.res = answer(c, { status: fault.status, body: fault.body, headers: fault.headers });
    }
    record.status = c.res.status;
  });

  function answer(c: Context, { status, body, headers }: Answer): Response {
    for (const [name, value] of Object.entries(headers ?? {})) c.header(name, value);
    if (body === null || body === undefined) return c.body(null, status as 200);
    return c.json(body, status as 200);
  }

  function finish(c: Context, record: RecordedRequest, result: Answer): Response {
    record.status = result.status;
    return answer(c, result);
  }

  /** Closes the socket without an answer (as a lost connection looks to the client). */
  function dropConnection(c: Context, record: RecordedRequest): Promise<Response> | Response {
    record.status = 0;
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) {
      outgoing.socket?.destroy();
      outgoing.destroy();
      // Nothing can be written any more; leave the adapter waiting instead of logging a write error.
      return new Promise<Response>(() => {});
    }
    // Without a socket (app.request in tests) the closest thing is a network-error response.
    return Response.error();
  }

  function rawBodyOf(c: Context): string {
    return recordOf.get(c.req.raw)?.rawBody ?? "";
  }

  // ---- authentication ----
  function authenticate(c: Context): { token: string } | Answer {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) return { status: 401, body: { message: LINE_MESSAGES.authHeaderRequired } };
    const token = match[1]!;
    if (tokens.state(token) !== "valid") return { status: 401, body: { message: LINE_MESSAGES.authFailed } };
    return { token };
  }

  function readJson(c: Context): { value: unknown } | Answer {
    const contentType = c.req.header("content-type") ?? "";
    if (!/^application\/json\b/i.test(contentType.trim())) {
      return { status: 415, body: { message: `The content type, '${contentType}', is not supported` } };
    }
    const raw = rawBodyOf(c);
    try {
      return { value: JSON.parse(raw) as unknown };
    } catch (error) {
      return { status: 400, body: { message: `The request body could not be parsed as JSON ${jsonErrorPosition(raw, error)}` } };
    }
  }

  /** The contract's schema for the body of `operation` ("POST /v2/bot/message/push"). */
  function bodySchema(operation: string): string {
    const entry = contract.operations[operation];
    if (!entry) throw new Error(`the LINE contract has no operation ${operation}`);
    return entry.schema;
  }

  function validateMessagesBody(operation: string, body: unknown): ValidationIssue[] {
    const issues = validator.validate(bodySchema(operation), body);
    if (isObject(body)) issues.push(...checkMessageLimits(body.messages));
    return dedupeIssues(issues);
  }

  // ---- sending ----
  function acceptedKey(retryKey: string): AcceptedRetryKey | undefined {
    const entry = retryKeys.get(retryKey);
    if (entry && now() - entry.at >= RETRY_KEY_TTL_MS) {
      retryKeys.delete(retryKey);
      return undefined;
    }
    return entry;
  }

  function sentMessagesFor(messages: unknown[]): SentMessage[] {
    return messages.map((message) => {
      messageCounter += 1n;
      const sent: SentMessage = { id: messageCounter.toString() };
      if (isObject(message) && QUOTABLE_TYPES.has(String(message.type))) sent.quoteToken = randomBytes(24).toString("base64url");
      return sent;
    });
  }

  /** Everything after reading the body is synchronous, so two requests with one retry key cannot both pass. */
  function send(c: Context, kind: SendKind): Answer {
    const auth = authenticate(c);
    if ("status" in auth) return auth;
    const retryKey = c.req.header("x-line-retry-key");
    if (retryKey !== undefined) {
      if (kind === "reply") return { status: 400, body: { message: "X-Line-Retry-Key is not supported by this API" } };
      if (!UUID.test(retryKey)) {
        return { status: 400, body: { message: "The X-Line-Retry-Key header must be a UUID in hexadecimal format" } };
      }
      const accepted = acceptedKey(retryKey);
      if (accepted) {
        return {
          status: 409,
          body: { message: LINE_MESSAGES.retryKeyAccepted, ...(accepted.sentMessages ? { sentMessages: accepted.sentMessages } : {}) },
          headers: { "x-line-accepted-request-id": accepted.requestId },
        };
      }
    }
    const parsed = readJson(c);
    if ("status" in parsed) return parsed;
    const body = parsed.value;
    const issues = validateMessagesBody(`POST /v2/bot/message/${kind}`, body);
    if (issues.length > 0) return invalidBody(issues);
    const request = body as JsonBody & { messages: unknown[] };

    let to: string[];
    if (kind === "push") {
      if (!isPushTarget(request.to)) {
        return invalidBody([{ property: "to", message: "invalid property", kind: "type" }]);
      }
      to = [request.to as string];
    } else if (kind === "multicast") {
      to = request.to as string[];
      const bad = to.findIndex((id) => !isUserId(id));
      if (bad >= 0) return invalidBody([{ property: `to[${bad}]`, message: "invalid property", kind: "type" }]);
    } else {
      const entry = replyTokens.get(String(request.replyToken));
      if (!entry || entry.used || now() - entry.issuedAt >= replyTokenTtlMs) {
        return { status: 400, body: { message: LINE_MESSAGES.invalidReplyToken } };
      }
      const target = entry.source.groupId ?? entry.source.roomId ?? entry.source.userId;
      to = target ? [target] : [];
    }

    const blocked = to.filter((id) => blockedUsers.has(id));
    if (kind !== "reply") {
      const counted = to.length - blocked.length;
      if (monthlyQuota !== "none" && totalUsage + counted > monthlyQuota) {
        return { status: 429, body: { message: LINE_MESSAGES.monthlyLimit } };
      }
      totalUsage += counted;
    } else {
      replyTokens.get(String(request.replyToken))!.used = true;
    }

    const requestId = recordOf.get(c.req.raw)!.requestId;
    const sentMessages = sentMessagesFor(request.messages);
    if (retryKey !== undefined) {
      retryKeys.set(retryKey, { requestId, at: now(), ...(kind === "push" ? { sentMessages } : {}) });
    }
    delivered.push({
      kind,
      to,
      messages: request.messages,
      ...(retryKey !== undefined ? { retryKey } : {}),
      requestId,
      accessToken: auth.token,
      at: now(),
      sentMessages,
      blocked,
      ...(kind === "reply" ? { replyToken: String(request.replyToken) } : {}),
    });
    // MulticastResponse is an empty object in the spec.
    return { status: 200, body: kind === "multicast" ? {} : { sentMessages } };
  }

  app.post("/v2/bot/message/push", (c) => answer(c, send(c, "push")));
  app.post("/v2/bot/message/multicast", (c) => answer(c, send(c, "multicast")));
  app.post("/v2/bot/message/reply", (c) => answer(c, send(c, "reply")));

  app.post("/v2/bot/message/validate/:kind{push|reply|multicast|narrowcast|broadcast}", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    if (c.req.header("x-line-retry-key") !== undefined) {
      return answer(c, { status: 400, body: { message: "X-Line-Retry-Key is not supported by this API" } });
    }
    const parsed = readJson(c);
    if ("status" in parsed) return answer(c, parsed);
    const issues = validateMessagesBody(`POST /v2/bot/message/validate/${c.req.param("kind")}`, parsed.value);
    return answer(c, issues.length > 0 ? invalidBody(issues) : { status: 200, body: {} });
  });

  // ---- quota, profiles ----
  // As documented: https://developers.line.biz/en/reference/messaging-api/#get-quota (`type` "none",
  // or "limited" with `value`) and #get-consumption (`totalUsage`, this month's sent messages); a
  // push past the quota is refused with 429 "You have reached your monthly limit." (#status-codes).
  app.get("/v2/bot/message/quota", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    return answer(c, { status: 200, body: monthlyQuota === "none" ? { type: "none" } : { type: "limited", value: monthlyQuota } });
  });

  app.get("/v2/bot/message/quota/consumption", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    return answer(c, { status: 200, body: { totalUsage } });
  });

  app.get("/v2/bot/profile/:userId", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    const userId = c.req.param("userId");
    const profile = profiles.get(userId);
    if (!profile || blockedUsers.has(userId)) return answer(c, { status: 404, body: { message: LINE_MESSAGES.notFound } });
    return answer(c, { status: 200, body: { displayName: profile.displayName, userId, ...withoutDisplayName(profile) } });
  });

  app.get("/v2/bot/group/:groupId/member/:userId", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    const { groupId, userId } = c.req.param();
    const profile = groupMembers.get(`${groupId}/${userId}`);
    if (!profile) return answer(c, { status: 404, body: { message: LINE_MESSAGES.notFound } });
    return answer(c, { status: 200, body: { displayName: profile.displayName, userId, ...withoutDisplayName(profile) } });
  });

  // Get group chat summary: https://developers.line.biz/en/reference/messaging-api/#get-group-summary
  // -> {groupId, groupName, pictureUrl?} (pictureUrl only when the group has an icon). Only groups
  // the bot is in are known; any other ID, a malformed one or a room's included, is 404 as for
  // profiles (rooms have no summary: https://developers.line.biz/en/docs/messaging-api/group-chats/).
  app.get("/v2/bot/group/:groupId/summary", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    const groupId = c.req.param("groupId");
    const summary = GROUP_ID.test(groupId) ? groupSummaries.get(groupId) : undefined;
    if (!summary) return answer(c, { status: 404, body: { message: LINE_MESSAGES.notFound } });
    return answer(c, { status: 200, body: { groupId, groupName: summary.groupName, ...(summary.pictureUrl ? { pictureUrl: summary.pictureUrl } : {}) } });
  });

  // ---- account link ----
  // Issue link token: https://developers.line.biz/en/reference/messaging-api/#issue-link-token
  // (no request body; 200 {linkToken}, valid 10 minutes, single use). A malformed user ID answers
  // 400 "The value for the 'userId' parameter is invalid", LINE's wording for a bad userId path
  // parameter (the error example of #link-rich-menu-to-user). Any well-formed ID gets a token:
  // the emulator does not know who is a friend of the bot.
  app.post("/v2/bot/user/:userId/linkToken", (c) => {
    const auth = authenticate(c);
    if ("status" in auth) return answer(c, auth);
    if (c.req.header("x-line-retry-key") !== undefined) {
      return answer(c, { status: 400, body: { message: "X-Line-Retry-Key is not supported by this API" } });
    }
    const userId = c.req.param("userId");
    if (!isUserId(userId)) return answer(c, { status: 400, body: { message: LINE_MESSAGES.invalidUserIdParameter } });
    return answer(c, { status: 200, body: { linkToken: linkTokens.issue(userId).linkToken } });
  });

  const accessApp = createAccessApp({
    now,
    linkTokens,
    sessions: browserSessions,
    webhooks,
    issueReplyToken,
    visits: accountLinkVisits,
  });

  // ---- channel access tokens ----
  function readForm(c: Context, path: string): { form: Record<string, string> } | Answer {
    const contentType = c.req.header("content-type") ?? "";
    if (!contentType.toLowerCase().includes("application/x-www-form-urlencoded")) {
      return { status: 400, body: { error: "invalid_request", error_description: "Content-Type must be application/x-www-form-urlencoded" } };
    }
    // Empty fields count as absent (some SDKs send client_assertion="" with a client secret).
    const form = Object.fromEntries([...new URLSearchParams(rawBodyOf(c))].filter(([, value]) => value !== ""));
    const issues = validator.validate(bodySchema(`POST ${path}`), form);
    if (issues.length > 0) {
      const first = issues[0]!;
      return {
        status: 400,
        body: { error: "invalid_request", error_description: `${first.property || "body"}: ${first.message}` },
      };
    }
    return { form };
  }

  app.post("/oauth2/v3/token", (c) => {
    const read = readForm(c, "/oauth2/v3/token");
    if ("status" in read) return answer(c, read);
    return answer(c, tokens.issueStatelessFromForm(read.form));
  });

  app.post("/oauth2/v2.1/token", (c) => {
    const read = readForm(c, "/oauth2/v2.1/token");
    if ("status" in read) return answer(c, read);
    return answer(c, tokens.issueV21FromForm(read.form));
  });

  app.post("/oauth2/v2.1/revoke", (c) => {
    const read = readForm(c, "/oauth2/v2.1/revoke");
    if ("status" in read) return answer(c, read);
    return answer(c, tokens.revokeV21FromForm(read.form));
  });

  app.notFound((c) => c.json({ message: LINE_MESSAGES.notFound }, 404));
  app.onError((error, c) => {
    console.error("line emulator:", error);
    return c.json({ message: "Internal server error" }, 500);
  });

  // ---- controls for tests ----
  function defaultChannelId(): string {
    const first = channels[0];
    if (!first) throw new Error("the emulator has no channel");
    return first.channelId;
  }

  return {
    app,
    /** The @line/bot-sdk version the request bodies are validated against (the committed contract's source). */
    contractVersion: contract.source.version,
    channels: channels as readonly EmulatedChannel[],
    /** Every request, in arrival order. */
    requests,
    /** Every accepted push / multicast / reply. */
    delivered,
    get issuedTokens(): readonly IssuedToken[] {
      return tokens.issued;
    },
    get quotaConsumption(): number {
      return totalUsage;
    },

    /** Pushes and multicasts that reached this user (not blocked). */
    pushesTo(userId: string): Delivery[] {
      return delivered.filter(
        (delivery) => delivery.kind !== "reply" && delivery.to.includes(userId) && !delivery.blocked.includes(userId),
      );
    },
    repliesTo(target: string): Delivery[] {
      return delivered.filter((delivery) => delivery.kind === "reply" && delivery.to.includes(target));
    },

    /** A reply token as a webhook event would carry it: works once, within replyTokenTtlMs. */
    issueReplyToken,

    // ---- account link and webhooks ----
    /** access.line.me: the account-link page (GET /dialog/bot/accountLink) and the test-only GET /login?user=<userId>. */
    accessApp,
    /** The bot user ID webhooks carry as `destination`. */
    botUserId: options.botUserId ?? DEFAULT_BOT_USER_ID,
    /** Link tokens issued by POST /v2/bot/user/{userId}/linkToken, with when they were used. */
    get issuedLinkTokens(): readonly IssuedLinkToken[] {
      return linkTokens.issued;
    },
    /** Every visit to the account-link page and what came of it. */
    accountLinkVisits,
    /** Every webhook POST the emulator made: bytes, signature, the receiver's status. */
    get sentWebhooks(): readonly SentWebhook[] {
      return webhooks.sent;
    },
    /** Where LINE sends webhooks (the console's webhook URL); the secret defaults to the first channel's. */
    setWebhook(target: WebhookTarget): void {
      webhooks.setTarget(target);
    },
    /** No webhook URL: LINE sends nothing. */
    clearWebhook(): void {
      webhooks.setTarget(undefined);
    },
    /**
     * Sends these events as they are, in one body signed like every webhook; undefined when no
     * webhook is set. Build common properties with newWebhookEventId and issueReplyToken.
     */
    sendWebhookEvents(events: WebhookEventPayload[]): Promise<SentWebhook | undefined> {
      return webhooks.send(events);
    },
    /** The Cookie header value of a browser logged in to LINE as this user (as GET /login sets it). */
    sessionCookie(userId: string): string {
      if (!isUserId(userId)) throw new Error(`not a LINE user ID: ${userId}`);
      return `${SESSION_COOKIE}=${browserSessions.open(userId)}`;
    },
    /** Every unused link token expires now. */
    expireAllLinkTokens(): void {
      linkTokens.expireAll();
    },

    /** A valid token without the OAuth round trip. */
    createAccessToken(options: { kind?: "stateless" | "v2.1"; channelId?: string; ttlSeconds?: number } = {}): string {
      return tokens.issue(options.kind ?? "stateless", options.channelId ?? defaultChannelId(), options.ttlSeconds).token;
    },
    addLongLivedToken(token: string): void {
      tokens.addLongLived(token);
    },
    revokeToken(token: string): boolean {
      return tokens.revoke(token);
    },
    registerAssertionKey(channelId: string, kid: string, publicKey: string): void {
      tokens.registerAssertionKey(channelId, kid, publicKey);
    },
    /** Every issued (not long-lived) token expires now. */
    expireAllTokens(): void {
      tokens.expireAll();
    },

    blockUser(userId: string): void {
      blockedUsers.add(userId);
    },
    unblockUser(userId: string): void {
      blockedUsers.delete(userId);
    },
    setProfile(userId: string, profile: UserProfile): void {
      profiles.set(userId, { ...profile });
    },
    setGroupMemberProfile(groupId: string, userId: string, profile: GroupMemberProfile): void {
      groupMembers.set(`${groupId}/${userId}`, { ...profile });
    },
    /** The bot is in this group (C + 32 hex) under this name: GET /v2/bot/group/{groupId}/summary answers it. */
    setGroupSummary(groupId: string, summary: GroupSummary): void {
      if (!GROUP_ID.test(groupId)) throw new Error(`not a LINE group ID: ${groupId}`);
      groupSummaries.set(groupId, { ...summary });
    },
    /** The bot left the group: its summary is 404 again. */
    removeGroupSummary(groupId: string): void {
      groupSummaries.delete(groupId);
    },
    setMonthlyQuota(limit: number | "none"): void {
      monthlyQuota = limit;
    },

    /** The next `count` requests of this kind answer `status` and take no effect. */
    failNext(kind: FaultKind, failure: FailOptions): void {
      faults.fail(kind, failure);
    },
    /** The next request of this kind takes effect (delivered, retry key remembered), then answers `status`. */
    failNextAfterAccepting(kind: FaultKind, status: number, failure: Omit<FailOptions, "status"> = {}): void {
      faults.fail(kind, { ...failure, status }, true);
    },
    /** The next `count` requests of this kind wait `ms` (real time) before being handled. */
    delayNext(kind: FaultKind, ms: number, count = 1): void {
      faults.delay(kind, ms, count);
    },
    /** The next `count` requests of this kind lose their connection without an answer (and take no effect, unless afterAccepting). */
    dropNext(kind: FaultKind, count = 1, dropOptions: { afterAccepting?: boolean } = {}): void {
      faults.drop(kind, count, dropOptions.afterAccepting ?? false);
    },

    /**
     * Forgets recordings, pending faults, retry keys, reply tokens, link tokens, account-link visits,
     * sent webhooks and quota usage; keeps channels, tokens, profiles, blocks, browser sessions and
     * the webhook URL.
     */
    reset(): void {
      requests.length = 0;
      delivered.length = 0;
      faults.clear();
      retryKeys.clear();
      replyTokens.clear();
      linkTokens.clear();
      accountLinkVisits.length = 0;
      webhooks.clear();
      totalUsage = 0;
    },
  };
}

function withoutDisplayName<T extends { displayName: string }>(profile: T): Omit<T, "displayName"> {
  const { displayName: _displayName, ...rest } = profile;
  return rest;
}

export type LineEmulator = ReturnType<typeof createLineEmulator>;
