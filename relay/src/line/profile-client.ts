import { HTTPFetchError, messagingApi } from "@line/bot-sdk";
import { z } from "zod";
import type { AccessTokenSource } from "./line-http.js";

/**
 * Display names for acknowledgements: a friend's profile, or a group member's profile, through the
 * SDK's `messagingApi.MessagingApiClient` (`getProfile`, `getGroupMemberProfile`). What the SDK does
 * not do, this module adds:
 * - a timeout: the SDK passes no AbortSignal to fetch, so the lookup races a timer. A lookup that
 *   timed out is left to finish in the background (undici ends an unanswered request after its
 *   300 s header timeout); it only reads, so a late answer changes nothing.
 * - the token: the SDK fixes it per client, so each lookup makes a client with the current token,
 *   and a 401 invalidates it for the next attempt.
 * - path escaping: the SDK puts IDs into the path as given.
 * - error classes: 404 is "LINE does not know the user"; everything else is a LineProfileError,
 *   which the webhook worker retries with backoff (429, 5xx, timeouts, a renewed token).
 */
export interface ProfileClient {
  /** The display name, or undefined when LINE does not know the user (404). Throws LineProfileError on other failures. */
  displayName(userId: string, groupId?: string): Promise<string | undefined>;
}

export class LineProfileError extends Error {
  override readonly name = "LineProfileError";
  constructor(
    message: string,
    /** HTTP status of LINE's answer; null when there was none (timeout, network, no token). */
    readonly status: number | null,
    /** LINE's x-line-request-id, when it answered. */
    readonly requestId: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ProfileClientOptions {
  /** An origin such as https://api.line.me: the SDK resolves its absolute paths against it, so a path here would be dropped. */
  apiBaseUrl: string;
  tokens: AccessTokenSource;
  /** Per lookup; default 5 s. */
  timeoutMs?: number;
}

/** The one property we read of messagingApi.UserProfileResponse / GroupUserProfileResponse. */
const profileSchema = z.object({ displayName: z.string() }) satisfies z.ZodType<
  Pick<messagingApi.UserProfileResponse, "displayName"> & Pick<messagingApi.GroupUserProfileResponse, "displayName">
>;

const lineErrorSchema = z.object({ message: z.string() }) satisfies z.ZodType<Pick<messagingApi.ErrorResponse, "message">>;

export function createProfileClient(options: ProfileClientOptions): ProfileClient {
  const lookup = createLineLookup(options, "LINE profile");
  return {
    async displayName(userId, groupId) {
      const profile = await lookup(
        (client) =>
          groupId
            ? client.getGroupMemberProfile(encodeURIComponent(groupId), encodeURIComponent(userId))
            : client.getProfile(encodeURIComponent(userId)),
        profileSchema,
      );
      return profile?.displayName;
    },
  };
}

/**
 * One read from LINE through the SDK's client, as described above: the current token, a
 * timeout, undefined for 404 (or an answer without the documented shape), LineProfileError
 * (prefixed with `what`) for every other failure. Shared by the profile and group summary lookups.
 */
export type LineLookup = <T>(call: (client: messagingApi.MessagingApiClient) => Promise<unknown>, schema: z.ZodType<T>) => Promise<T | undefined>;

export function createLineLookup(options: ProfileClientOptions, what: string): LineLookup {
  const base = new URL(options.apiBaseUrl);
  if (base.pathname.replace(/\/+$/, "") !== "") {
    throw new Error(`LINE lookups need an API base URL without a path (got "${options.apiBaseUrl}")`);
  }
  const timeoutMs = options.timeoutMs ?? 5000;

  return async (call, schema) => {
    let token: string;
    try {
      token = await options.tokens.getToken();
    } catch (error) {
      throw new LineProfileError(`${what}: no channel access token: ${(error as Error).message}`, null, null, { cause: error });
    }
    const client = new messagingApi.MessagingApiClient({ channelAccessToken: token, baseURL: base.origin });
    let answer: unknown;
    try {
      answer = await withTimeout(call(client), timeoutMs);
    } catch (error) {
      if (error instanceof HTTPFetchError) {
        if (error.status === 404) return undefined;
        if (error.status === 401) options.tokens.invalidate(token);
        const said = lineErrorSchema.safeParse(parseJson(error.body));
        const message = said.success ? said.data.message : error.body.slice(0, 200);
        throw new LineProfileError(`${what}: ${error.status} ${message}`.trim(), error.status, error.headers.get("x-line-request-id"), { cause: error });
      }
      throw new LineProfileError(`${what}: ${(error as Error).message}`, null, null, { cause: error });
    }
    const parsed = schema.safeParse(answer);
    return parsed.success ? parsed.data : undefined;
  };
}

class LookupTimeout extends Error {
  override readonly name = "LookupTimeout";
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookupTimeout(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // a late failure after the timeout is nobody's concern
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
