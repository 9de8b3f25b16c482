import type { AccessTokenSource } from "./line-http.js";

/** Display names for acknowledgements: a friend's profile, or a group member's profile. */
export interface ProfileClient {
  /** The display name, or undefined when LINE does not know the user (404). Throws on other failures. */
  displayName(userId: string, groupId?: string): Promise<string | undefined>;
}

export class LineProfileError extends Error {
  override readonly name = "LineProfileError";
  constructor(message: string, readonly status: number | null) {
    super(message);
  }
}

export function createProfileClient(options: { apiBaseUrl: string; tokens: AccessTokenSource; fetch?: typeof fetch; timeoutMs?: number }): ProfileClient {
  const doFetch = options.fetch ?? fetch;
  return {
    async displayName(userId, groupId) {
      const path = groupId
        ? `/v2/bot/group/${encodeURIComponent(groupId)}/member/${encodeURIComponent(userId)}`
        : `/v2/bot/profile/${encodeURIComponent(userId)}`;
      const token = await options.tokens.getToken();
      let response: Response;
      try {
        response = await doFetch(options.apiBaseUrl + path, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
      } catch (error) {
        throw new LineProfileError(`LINE profile: ${(error as Error).message}`, null);
      }
      if (response.status === 404) return undefined;
      if (response.status === 401) options.tokens.invalidate(token);
      if (!response.ok) throw new LineProfileError(`LINE profile: ${response.status}`, response.status);
      const body = (await response.json()) as { displayName?: unknown };
      return typeof body.displayName === "string" ? body.displayName : undefined;
    },
  };
}
