import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { APP_ID_PATTERN, APP_KEY_SHAPE, isAppKey, sameSecret } from "./app-key.js";
import { HttpError } from "./http-error.js";

export const APP_HEADER = "X-Relay-App";

const unauthorized = (message: string) => (c: Context) => c.json({ error: { code: "unauthorized", message } }, 401);

/**
 * `Authorization: Bearer <credential>` for /v1, through Hono's bearerAuth, and the principal it
 * proves, set on the context for `requireAppAccess`:
 *
 * - a RELAY_SECRET (any of the list: the current one and those being retired) -> `{kind: "master"}`;
 * - an app key with `X-Relay-App: <appId>` naming its app -> `{kind: "app", appId}`. The header says
 *   which app's key to derive and compare (an HMAC cannot be read backwards); kintone's server
 *   sends both from the plugin's proxy config, and its saved headers override the browser's.
 *
 * A key shaped like an app key that is not the key of the app X-Relay-App names is a 403
 * `wrong_app` (an HMAC cannot say whose key it is instead); without X-Relay-App, or a bearer
 * shaped like no app key, that is no RELAY_SECRET: 401. Secrets and keys are compared
 * through hashes, so timing says nothing about them. A malformed Authorization header is a 401
 * too (Hono would answer 400), so the header's form tells a caller nothing more.
 */
export function requireRelaySecret(secrets: readonly string[]): MiddlewareHandler {
  if (secrets.length === 0) throw new Error("requireRelaySecret: at least one secret is needed");
  if (secrets.some((secret) => secret.length < 16)) throw new Error("requireRelaySecret: each secret must be at least 16 characters");
  return bearerAuth({
    verifyToken: (token, c) => {
      let master = false;
      for (const secret of secrets) if (sameSecret(secret, token)) master = true;
      if (master) {
        c.set("principal", { kind: "master" });
        return true;
      }
      const appId = c.req.header(APP_HEADER)?.trim();
      if (appId === undefined || appId === "" || !APP_KEY_SHAPE.test(token)) return false;
      if (!APP_ID_PATTERN.test(appId)) {
        throw new HttpError(400, "invalid_request", `${APP_HEADER}: must be the kintone app ID (a positive whole number), got "${appId}"`);
      }
      if (!isAppKey(secrets, appId, token)) {
        throw new HttpError(
          403,
          "wrong_app",
          `the bearer key is not app ${appId}'s key (${APP_HEADER}: ${appId}): another app's, or not issued by this relay; get it with: npm run app-key -- ${appId}`,
        );
      }
      c.set("principal", { kind: "app", appId });
      return true;
    },
    noAuthenticationHeader: { message: unauthorized("missing Authorization header: send Authorization: Bearer <app key or RELAY_SECRET>") },
    invalidAuthenticationHeader: { message: unauthorized("the Authorization header is not Bearer <app key or RELAY_SECRET>") },
    invalidToken: {
      message: unauthorized(`wrong bearer secret in the Authorization header (an app key needs the header ${APP_HEADER}: <appId>)`),
    },
  });
}
