import { Hono } from "hono";
import type { Clock } from "../clock.js";
import { HttpError } from "../http/http-error.js";
import { requireAppAccess } from "../http/principal.js";
import { readJsonBody } from "../http/read-json-body.js";
import type { Logger } from "../logger.js";
import type { RelayStore } from "../store/relay-store.js";
import { APP_ID_PATTERN, parseRulesBody } from "./rules-body.js";

function appIdOf(value: string): string {
  if (!APP_ID_PATTERN.test(value)) {
    throw new HttpError(400, "invalid_request", "appId: must be a positive whole number", [
      { path: "appId", message: "must be a positive whole number" },
    ]);
  }
  return value;
}

/**
 * `/v1/apps/{appId}/rules` (bearer auth is applied by the app; an app key only for its own app): the app's rule set as the relay
 * keeps it, for triggers no browser fires. PUT registers it (the settings page, on save): 200
 * `{appId, version}`; an invalid one is a 400 naming the path, and the stored one stays. GET
 * returns `{appId, version, rules, updatedAt}`, or 404.
 */
export function appRulesRoute(deps: { store: RelayStore; clock: Clock; logger: Logger }) {
  return new Hono()
    .put("/:appId/rules", async (c) => {
      const appId = appIdOf(c.req.param("appId"));
      requireAppAccess(c, appId);
      const { json } = await readJsonBody(c);
      const { rules, ruleSet } = parseRulesBody(json);
      const { version, changed } = await deps.store.saveAppRules(appId, rules, deps.clock.now());
      deps.logger.info(changed ? "rule set registered" : "rule set unchanged", { app: appId, version, rules: ruleSet.rules.length });
      return c.json({ appId, version });
    })
    .get("/:appId/rules", async (c) => {
      const appId = appIdOf(c.req.param("appId"));
      requireAppAccess(c, appId);
      const stored = await deps.store.getAppRules(appId);
      if (!stored) throw new HttpError(404, "not_found", `no rule set is registered for app ${appId}`);
      return c.json({
        appId,
        version: stored.version,
        rules: stored.rules,
        updatedAt: new Date(stored.updatedAt).toISOString(),
      });
    });
}
