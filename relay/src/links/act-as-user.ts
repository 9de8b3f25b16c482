import type { KintoneRestAPIClient } from "@kintone/rest-api-client";
import type { KintoneRecord } from "../../../common/kintone/record.js";
import type { Clock } from "../clock.js";
import { KintoneError } from "../kintone/kintone-client.js";
import type { KintoneOAuthClient } from "../kintone/kintone-oauth-client.js";
import { parseRetryAfter } from "../kintone/kintone-rest-client.js";
import type { Logger } from "../logger.js";
import { TokenBoxError, type TokenBox } from "./token-box.js";
import type { UserLinkStore } from "./user-links.js";
import { asKintoneRestApiError, loadKintoneSdk } from "../kintone/kintone-sdk.js";

/** Calls kintone's REST API as a linked kintone user (OAuth access token, refreshed one at a time per user; never the API token). */
export interface ActAsUser {
  getRecord(kintoneUserCode: string, appId: string, recordId: string): Promise<KintoneRecord>;
  updateStatus(
    kintoneUserCode: string,
    input: { appId: string; recordId: string; action: string; assignee?: string; revision: number },
  ): Promise<{ revision: number }>;
  addComment(kintoneUserCode: string, input: { appId: string; recordId: string; text: string }): Promise<{ id: string }>;
  /** The app's process: actions (name, from, to) and whether the next status asks the actor to choose an assignee (GET /k/v1/app/status.json as the user). */
  getProcess(
    kintoneUserCode: string,
    appId: string,
  ): Promise<{
    actions: Array<{ name: string; from: string; to: string }>;
    states: Record<string, { assigneeType: "ONE" | "ALL" | "ANY" | null; entities: unknown[] }>;
  }>;
}

/** No link for this kintone user. */
export class UserNotLinkedError extends Error {
  override readonly name = "UserNotLinkedError";
  constructor(readonly kintoneUserCode: string) {
    super(`kintone user ${kintoneUserCode} has not connected a LINE account`);
  }
}

/** kintone refused the user's token (revoked, expired refresh): the link is marked "reconnect"; never fall back to the API token. */
export class UserReconnectNeededError extends Error {
  override readonly name = "UserReconnectNeededError";
  constructor(
    readonly kintoneUserCode: string,
    reason: string,
  ) {
    super(`kintone user ${kintoneUserCode} must connect again: ${reason}`);
  }
}

export interface ActAsUserDeps {
  links: UserLinkStore;
  oauth: KintoneOAuthClient;
  tokenBox: TokenBox;
  /** kintone's REST API base (KINTONE_BASE_URL). */
  baseUrl: string;
  clock: Clock;
  logger: Logger;
  /** Told the status of every REST call (relay_kintone_requests_total), as the API-token client does. */
  onRequest?: (status: string) => void;
}

/** An access token is renewed this long before kintone's expiry, so a call does not start with one about to lapse. */
const EXPIRY_MARGIN_MS = 60_000;

interface CachedToken {
  token: string;
  expiresAt: number;
  /** The link the token was issued under: a user who connected again gets a fresh one. */
  linkedAt: number;
}

/**
 * Access tokens live in this process's memory only, one per user; the refresh token is read
 * from the store, opened with RELAY_TOKEN_KEY, and used one refresh at a time per user: callers
 * that need a token while a refresh runs wait for it. A call answered 401 refreshes once (unless
 * another caller already did) and is tried again. A refresh answered `invalid_grant` (revoked,
 * expired, the user no longer allowed) or a stored token that does not open marks the link
 * "reconnect" and throws UserReconnectNeededError: nothing falls back to the API token.
 * Instances sharing a store each keep their own access tokens; kintone does not rotate the
 * refresh token, so their refreshes do not undo each other.
 */
export function createActAsUser(deps: ActAsUserDeps): ActAsUser {
  const cache = new Map<string, CachedToken>();
  const refreshing = new Map<string, Promise<string>>();

  const needReconnect = async (code: string, reason: string): Promise<never> => {
    cache.delete(code);
    await deps.links.markLinkNeedsReconnect(code, deps.clock.now());
    deps.logger.warn("kintone user must connect again", { kintoneUser: code, reason });
    throw new UserReconnectNeededError(code, reason);
  };

  const refresh = async (code: string): Promise<string> => {
    const credentials = await deps.links.getLinkCredentials(code);
    if (!credentials) throw new UserNotLinkedError(code);
    if (credentials.link.state === "reconnect") throw new UserReconnectNeededError(code, "the link is marked for reconnecting");
    let refreshToken: string;
    try {
      refreshToken = deps.tokenBox.open(credentials.sealedRefreshToken, code);
    } catch (error) {
      if (!(error instanceof TokenBoxError)) throw error;
      return needReconnect(code, "the stored token does not open with RELAY_TOKEN_KEY");
    }
    const startedAt = deps.clock.now();
    let tokens;
    try {
      tokens = await deps.oauth.refresh(refreshToken);
    } catch (error) {
      if (error instanceof KintoneError && error.code === "invalid_grant") return needReconnect(code, "kintone refused the refresh token (invalid_grant)");
      throw error;
    }
    cache.set(code, { token: tokens.accessToken, expiresAt: startedAt + tokens.expiresIn * 1000, linkedAt: credentials.link.linkedAt });
    deps.logger.debug("kintone access token refreshed", { kintoneUser: code });
    return tokens.accessToken;
  };

  /** One refresh per user at a time: a caller arriving while one runs shares its outcome. */
  const refreshOnce = (code: string): Promise<string> => {
    let running = refreshing.get(code);
    if (!running) {
      running = refresh(code).finally(() => refreshing.delete(code));
      refreshing.set(code, running);
    }
    return running;
  };

  const accessToken = async (code: string): Promise<string> => {
    // The link is read on every call: a user who disconnected (or was removed by the operator)
    // is not acted for with a token this process still holds.
    const link = await deps.links.getLinkByKintoneUser(code);
    if (!link) {
      cache.delete(code);
      throw new UserNotLinkedError(code);
    }
    if (link.state === "reconnect") throw new UserReconnectNeededError(code, "the link is marked for reconnecting");
    const cached = cache.get(code);
    if (cached && cached.linkedAt === link.linkedAt && cached.expiresAt - EXPIRY_MARGIN_MS > deps.clock.now()) return cached.token;
    return refreshOnce(code);
  };

  /** After `failed` was refused with 401: the token another caller got meanwhile, or a refresh. */
  const tokenAfter401 = (code: string, failed: string): Promise<string> => {
    const running = refreshing.get(code);
    if (running) return running;
    const cached = cache.get(code);
    if (cached && cached.token !== failed) return Promise.resolve(cached.token);
    cache.delete(code);
    return refreshOnce(code);
  };

  const counted = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      deps.onRequest?.("200");
      return result;
    } catch (error) {
      deps.onRequest?.(String(statusOf(error) ?? "network"));
      throw error;
    }
  };

  async function asUser<T>(code: string, what: string, call: (client: KintoneRestAPIClient) => Promise<T>): Promise<T> {
    const { KintoneRestAPIClient } = await loadKintoneSdk();
    const attempt = (token: string) => counted(() => call(new KintoneRestAPIClient({ baseUrl: deps.baseUrl, auth: { oAuthToken: token } })));
    const token = await accessToken(code);
    try {
      return await attempt(token);
    } catch (error) {
      if (statusOf(error) !== 401) throw toKintoneError(what, error);
    }
    // kintone no longer takes the token (it expired early, or was revoked): once more with a new one.
    const renewed = await tokenAfter401(code, token);
    try {
      return await attempt(renewed);
    } catch (error) {
      throw toKintoneError(what, error);
    }
  }

  return {
    getRecord: (code, appId, recordId) =>
      asUser(code, "get record", async (client) => (await client.record.getRecord({ app: appId, id: recordId })).record as KintoneRecord),
    updateStatus: (code, input) =>
      asUser(code, "update status", async (client) => {
        const answer = await client.record.updateRecordStatus({
          app: input.appId,
          id: input.recordId,
          action: input.action,
          revision: input.revision,
          ...(input.assignee !== undefined ? { assignee: input.assignee } : {}),
        });
        return { revision: Number(answer.revision) };
      }),
    addComment: (code, input) =>
      asUser(code, "add comment", (client) => client.record.addRecordComment({ app: input.appId, record: input.recordId, comment: { text: input.text } })),
    getProcess: (code, appId) =>
      asUser(code, "get process", async (client) => {
        // lang "user": action names as the user sees them, which is what a status update takes.
        const process = await client.app.getProcessManagement({ app: appId, lang: "user" });
        return {
          actions: (process.actions ?? []).map((action) => ({ name: action.name, from: action.from, to: action.to })),
          states: Object.fromEntries(
            Object.entries(process.states ?? {}).map(([name, state]) => [
              name,
              { assigneeType: state.assignee?.type ?? null, entities: state.assignee?.entities ?? [] },
            ]),
          ),
        };
      }),
  };
}

/** The HTTP status of a failed call: KintoneRestAPIError's, or the "401: Unauthorized" the client throws for a body that is not JSON. */
function statusOf(error: unknown): number | undefined {
  const sdkError = asKintoneRestApiError(error);
  if (sdkError) return sdkError.status;
  const status = (error as { response?: { status?: unknown } } | null)?.response?.status;
  if (typeof status === "number") return status;
  const match = error instanceof Error ? /^(\d{3}): /.exec(error.message) : null;
  return match ? Number(match[1]) : undefined;
}

function toKintoneError(what: string, error: unknown): KintoneError {
  if (error instanceof KintoneError) return error;
  const sdkError = asKintoneRestApiError(error);
  if (sdkError) {
    const headers = sdkError.headers as Record<string, unknown> | undefined;
    return new KintoneError(`kintone ${what} (as the user): ${sdkError.code} ${sdkError.message}`, sdkError.status, sdkError.code, parseRetryAfter(headers?.["retry-after"]));
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KintoneError(`kintone ${what} (as the user): ${message}`, statusOf(error), undefined);
}
