import type { Hono } from "hono";
import type { KintoneRecord } from "../../common/kintone/record.js";
import type { KintoneUser } from "./field-values.js";
import { type DelaySpec, type DropAfterCommitSpec, type FailureSpec, type RequestMatch, FaultInjector } from "./faults.js";
import { type RecordedRequest, createKintoneApp, wrapValues } from "./kintone-app.js";
import { type KintoneAppDefinition, type RecordComment, ADMINISTRATOR, KintoneStore } from "./kintone-store.js";
import { type OAuthClientDefinition, type OAuthTokenRequest, OAuthServer } from "./oauth.js";
import { LoginSessions, SESSION_COOKIE } from "./oauth-routes.js";
import { RecordWebhooks } from "./record-webhooks.js";
import { type DroppedWebhook, type WebhookDelivery, type WebhookRegistration, KintoneWebhooks } from "./webhooks.js";

export type { KintoneUser } from "./field-values.js";
export type { DelaySpec, DropAfterCommitSpec, FailureSpec, RequestMatch } from "./faults.js";
export type { RecordedRequest } from "./kintone-app.js";
export {
  type KintoneScope,
  type OAuthClientDefinition,
  type OAuthTokenRequest,
  ACCESS_TOKEN_LIFETIME_SECONDS,
  AUTHORIZATION_CODE_LIFETIME_MS,
  KINTONE_SCOPES,
} from "./oauth.js";
export { SESSION_COOKIE } from "./oauth-routes.js";
export { KintoneApiError } from "./errors.js";
export {
  type CommentWebhookBody,
  type DeleteWebhookBody,
  type DroppedWebhook,
  type RecordWebhookBody,
  type WebhookBody,
  type WebhookDelivery,
  type WebhookEventType,
  type WebhookRegistration,
  WEBHOOK_LIMIT_PER_MINUTE,
} from "./webhooks.js";
export {
  type ApiTokenDefinition,
  type ApiTokenPermissions,
  type CommentMention,
  type KintoneAppDefinition,
  type ProcessDefinition,
  type RecordComment,
  type StatusAssignees,
  type SystemFieldCodes,
  ADMINISTRATOR,
  DEFAULT_SYSTEM_FIELD_CODES,
} from "./kintone-store.js";

export interface KintoneEmulatorOptions {
  /** Clock for record and comment times and for `requests[].at` (default Date.now). */
  now?: () => number;
  /** Where this kintone is, for the permalinks in webhooks (default https://example.cybozu.com). */
  publicUrl?: string;
  /** What sends webhooks (default: global fetch). */
  fetch?: typeof fetch;
}

export interface UserActionOptions {
  /** Who does it (default Administrator). Recorded as the record's modifier. */
  user?: KintoneUser;
}

export interface RunActionOptions extends UserActionOptions {
  /** Login name of the next assignee, when the next status offers several. */
  assignee?: string;
}

export interface AddRecordOptions extends UserActionOptions {
  /** Creation time (default: now). */
  createdAt?: number;
}

/**
 * A kintone stand-in for tests, sandbox mode and benchmarks: `app` speaks kintone's REST API
 * (serve it with emulators/listen.ts; it never listens itself), the rest are test controls.
 *
 * Controls that take field values take them raw, as kintone returns them
 * (`{ amount: "1200", tags: ["a"], owner: [{ code: "sato" }] }`), not wrapped in `{value}`.
 * They apply kintone's rules too and throw KintoneApiError where kintone would refuse.
 */
export interface KintoneEmulator {
  readonly app: Hono;
  /**
   * Every REST request received, oldest first, with who it acted as (`actor`). The login page and
   * the OAuth endpoints are not listed here: see `oauthTokenRequests`.
   */
  readonly requests: readonly RecordedRequest[];

  /**
   * A cybozu.com user: may log in (`GET /login?user=<code>`, sessionCookie()), authorize OAuth
   * clients, and be named by login name in process assignees and app administrators (add users
   * before the apps that name them). Administrator exists from the start; users given whole in an
   * app's assignees are added with it.
   */
  addUser(user: KintoneUser): void;

  /**
   * What a cybozu.com administrator does in 「OAuth」: adds a client with its redirect endpoint and
   * ticks the users who may use it (`allowedUsers`, login names; absent: all users).
   */
  registerOAuthClient(client: OAuthClientDefinition): void;
  /**
   * The Cookie header value (`name=value`) of a new logged-in browser session for the user, as
   * `GET /login?user=<code>` sets it: lets a test walk through /oauth2/authorization as that user.
   */
  sessionCookie(userCode: string): string;
  /**
   * Everything the user authorized is withdrawn (an administrator unticks them, or they revoke the
   * client): their refresh tokens answer invalid_grant, their access tokens 401 CB_OA01.
   */
  revokeOAuthTokens(userCode: string): void;
  /** Every access token issued so far expires now (401 CB_OA01), as an hour later; refresh tokens stay good. */
  expireAccessTokens(): void;
  /** Every request to /oauth2/token, oldest first, with its answer. */
  readonly oauthTokenRequests: readonly OAuthTokenRequest[];

  addApp(definition: KintoneAppDefinition): void;
  /** A new record with all system fields, empty values for fields not given, and the initial status. */
  addRecord(appId: number, values?: Record<string, unknown>, options?: AddRecordOptions): { id: string; revision: string };
  /** The stored record (a copy), as Get Record returns it. */
  getRecord(appId: number, recordId: number | string): KintoneRecord;
  /** A user edits and saves the record: revision +1, modifier and update time set. */
  editRecord(
    appId: number,
    recordId: number | string,
    values: Record<string, unknown>,
    options?: UserActionOptions,
  ): { revision: string };
  /**
   * A user runs a process-management action: it must start from the current status, and the user
   * must be an assignee when the record has any; the status changes and the revision goes up by 2,
   * as kintone's does. In an ALL status, all but the last assignee only leave the assignees (+1).
   */
  runAction(appId: number, recordId: number | string, actionName: string, options?: RunActionOptions): { revision: string };
  /** A user deletes the record on its page (one record: a DELETE_RECORD webhook). */
  deleteRecord(appId: number, recordId: number | string, options?: UserActionOptions): void;
  /** Low level: stores the status as is (must be one of the app's); revision and times untouched. */
  setStatus(appId: number, recordId: number | string, status: string): void;
  /** The record's comments, oldest first. */
  comments(appId: number, recordId: number | string): RecordComment[];
  /** A user posts a comment on the record page. */
  addComment(appId: number, recordId: number | string, text: string, options?: UserActionOptions): { id: string };

  /**
   * The app's webhook settings: from now on, kintone POSTs its webhook JSON to `url` for the
   * `events` on single records (REST or the test controls above), never for bulk APIs.
   */
  addWebhook(appId: number, registration: WebhookRegistration): void;
  /** Webhooks sent, oldest first (status filled in once the receiver answered). */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Webhooks not sent because of kintone's 60-a-minute limit. */
  readonly droppedWebhooks: readonly DroppedWebhook[];
  /** Resolves when every webhook sent so far has been answered or has failed. */
  webhooksSettled(): Promise<void>;

  /** The next `count` (default 1) matching requests fail with `status` and a kintone-shaped body. */
  failNext(match: RequestMatch, failure: FailureSpec): void;
  /** The next `count` (default 1) matching requests are answered `ms` late. */
  delayNext(match: RequestMatch, delay: DelaySpec): void;
  /** The next `count` (default 1) matching requests are committed, then their connection is closed unanswered. */
  dropAfterCommitNext(match: RequestMatch, drop?: DropAfterCommitSpec): void;
  /**
   * Someone else saves the record right before the next update-record / update-status request for
   * it: the revision moves on, so that request fails with 409 GAIA_CO02 if it names a revision.
   */
  staleNextUpdate(appId: number, recordId: number | string, values?: Record<string, unknown>): void;
}

export function createKintoneEmulator(options: KintoneEmulatorOptions = {}): KintoneEmulator {
  const now = options.now ?? Date.now;
  const store = new KintoneStore(now);
  const faults = new FaultInjector();
  const requests: RecordedRequest[] = [];
  const webhooks = new KintoneWebhooks(now, options.fetch ?? fetch);
  const notify = new RecordWebhooks(store, webhooks, options.publicUrl ?? "https://example.cybozu.com", now);
  const oauth = new OAuthServer(now);
  const sessions = new LoginSessions();
  const app = createKintoneApp({ store, faults, requests, now, webhooks: notify, oauth, sessions });

  return {
    app,
    requests,
    addUser: (user) => store.addUser(user),
    registerOAuthClient: (client) => oauth.registerClient(client),
    sessionCookie: (userCode) => {
      if (!store.findUser(userCode)) throw new Error(`No user ${userCode} (addUser first)`);
      return `${SESSION_COOKIE}=${sessions.start(userCode)}`;
    },
    revokeOAuthTokens: (userCode) => oauth.revokeUser(userCode),
    expireAccessTokens: () => oauth.expireAccessTokens(),
    oauthTokenRequests: oauth.tokenRequests,
    addApp: (definition) => store.addApp(definition),
    addRecord: (appId, values = {}, opts = {}) => {
      const user = opts.user ?? ADMINISTRATOR;
      const input = wrapValues(values);
      if (opts.createdAt !== undefined) {
        const at = new Date(opts.createdAt).toISOString();
        const { createdTime, updatedTime } = store.systemFieldCodes(appId);
        input[createdTime] = { value: at };
        input[updatedTime] = { value: at };
      }
      const added = store.addRecord(appId, input, user);
      notify.record(appId, "ADD_RECORD", added.id);
      return added;
    },
    getRecord: (appId, recordId) => store.getRecord(appId, recordId),
    editRecord: (appId, recordId, values, opts = {}) => {
      const updated = store.updateRecord(appId, recordId, wrapValues(values), undefined, opts.user ?? ADMINISTRATOR);
      notify.record(appId, "UPDATE_RECORD", String(recordId));
      return updated;
    },
    runAction: (appId, recordId, actionName, opts = {}) => {
      const result = store.runAction(appId, recordId, actionName, opts.user ?? ADMINISTRATOR, undefined, opts.assignee);
      if (result.moved) notify.record(appId, "UPDATE_STATUS", String(recordId));
      return { revision: result.revision };
    },
    deleteRecord: (appId, recordId, opts = {}) => {
      store.deleteRecord(appId, recordId);
      notify.deleted(appId, String(recordId), opts.user ?? ADMINISTRATOR);
    },
    setStatus: (appId, recordId, status) => store.setStatus(appId, recordId, status),
    comments: (appId, recordId) => store.comments(appId, recordId),
    addComment: (appId, recordId, text, opts = {}) => {
      const added = store.addComment(appId, recordId, { text }, opts.user ?? ADMINISTRATOR);
      notify.comment(appId, String(recordId), added.id);
      return added;
    },
    addWebhook: (appId, registration) => {
      if (!store.hasApp(appId)) throw new Error(`No app ${appId}`);
      webhooks.register(appId, registration);
    },
    webhookDeliveries: webhooks.deliveries,
    droppedWebhooks: webhooks.dropped,
    webhooksSettled: () => webhooks.settled(),
    failNext: (match, failure) => faults.failNext(match, failure),
    delayNext: (match, delay) => faults.delayNext(match, delay),
    dropAfterCommitNext: (match, drop) => faults.dropAfterCommitNext(match, drop),
    staleNextUpdate: (appId, recordId, values) => faults.staleNextUpdate(appId, recordId, values),
  };
}
