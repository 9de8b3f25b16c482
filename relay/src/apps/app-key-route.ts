import { Hono } from "hono";
import { deriveAppKey } from "../http/app-key.js";
import { HttpError } from "../http/http-error.js";
import { requireMaster } from "../http/principal.js";
import { APP_ID_PATTERN } from "./rules-body.js";

/**
 * `GET /v1/apps/{appId}/key` (the master RELAY_SECRET only): `{appId, key}`, the key the plugin of
 * that app saves as its bearer. Derived from the current (first) secret; keys of the previous
 * secrets stay accepted while they are listed.
 */
export function appKeyRoute(deps: { relaySecrets: readonly string[] }) {
  const current = deps.relaySecrets[0];
  if (!current) throw new Error("appKeyRoute: at least one relay secret is needed");
  return new Hono().get("/:appId/key", (c) => {
    requireMaster(c);
    const appId = c.req.param("appId");
    if (!APP_ID_PATTERN.test(appId)) {
      throw new HttpError(400, "invalid_request", "appId: must be a positive whole number", [
        { path: "appId", message: "must be a positive whole number" },
      ]);
    }
    return c.json({ appId, key: deriveAppKey(current, appId) });
  });
}
