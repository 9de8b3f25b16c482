import type { Context } from "hono";
import { HttpError } from "./http-error.js";

/**
 * Who a /v1 request speaks for. `master`: the operator's RELAY_SECRET, every app. `app`: a key
 * derived for one kintone app, which the plugin of that app holds in its proxy config.
 */
export type Principal = { kind: "master" } | { kind: "app"; appId: string };

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}

/** The principal the auth middleware set; a route mounted outside /v1 has none, which is a bug. */
export function principalOf(c: Context): Principal {
  const principal = c.get("principal");
  if (!principal) throw new Error("no principal: the /v1 auth middleware did not run for this route");
  return principal;
}

/**
 * The one app check. Every /v1 route calls it with the app it is about to read or write (from the
 * path or the body), before it reads or stores anything of that app. The master secret may touch
 * any app; an app key only its own (the X-Relay-App header already matched the key).
 */
export function requireAppAccess(c: Context, appId: string): void {
  const principal = principalOf(c);
  if (principal.kind === "master" || principal.appId === appId) return;
  throw new HttpError(
    403,
    "wrong_app",
    `this key is app ${principal.appId}'s key: it cannot be used for app ${appId}`,
  );
}

/** Routes only the operator may use (issuing app keys): the master secret, never an app key. */
export function requireMaster(c: Context): void {
  if (principalOf(c).kind === "master") return;
  throw new HttpError(403, "master_secret_required", "this route needs the relay's RELAY_SECRET; an app key is not enough");
}
