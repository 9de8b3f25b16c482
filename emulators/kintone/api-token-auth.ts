import {
  apiTokenDuplicate,
  apiTokenNoPermission,
  apiTokenUnknown,
  apiTokenWrongApp,
  loginRequired,
} from "./errors.js";
import type { ApiTokenPermissions, KintoneStore } from "./kintone-store.js";

/** What an API needs from the app's token. Settings APIs take view or add (cybozu.dev). */
export type Permission = "view" | "add" | "edit" | "delete" | "viewOrAdd";

export interface TokenGrant {
  appId: number;
  permissions: ApiTokenPermissions;
}

/**
 * Reads `X-Cybozu-API-Token` (one token, or several comma-separated, one per app) and checks each
 * names a token some app issued: none -> 401 CB_AU01, an unknown one -> 400 GAIA_IA02, two of the
 * same app -> 400 GAIA_DA03 (answers seen from real kintone by cli-kintone's end-to-end tests).
 */
export function readApiTokens(store: KintoneStore, header: string | undefined): TokenGrant[] {
  const tokens = (header ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  if (tokens.length === 0) throw loginRequired();
  const grants: TokenGrant[] = [];
  for (const token of tokens) {
    const grant = store.findToken(token);
    if (!grant) throw apiTokenUnknown();
    if (grants.some((g) => g.appId === grant.appId)) throw apiTokenDuplicate();
    grants.push(grant);
  }
  return grants;
}

/** A token only opens its own app (403 GAIA_AP15), and only for what it may do (403 GAIA_NO01). */
export function requirePermission(grants: TokenGrant[], appId: number, permission: Permission): void {
  const grant = grants.find((g) => g.appId === appId);
  if (!grant) throw apiTokenWrongApp();
  const p = grant.permissions;
  const allowed = permission === "viewOrAdd" ? p.view || p.add : p[permission];
  if (!allowed) throw apiTokenNoPermission();
}
