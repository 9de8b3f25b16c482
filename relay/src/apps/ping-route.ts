import { Hono } from "hono";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import { readJsonBody } from "../http/read-json-body.js";

export interface PingAnswer {
  ok: true;
  version: string;
  rules: { valid: boolean; count: number; errors?: { path: string; message: string }[] };
}

/**
 * `POST /v1/ping` (bearer auth is applied by the app): "Test connection". Reaching this handler
 * means the secret worked; the answer says which relay answered and whether the rule set in the
 * body is one it accepts. The settings page sends the rule set on screen (through kintone.proxy,
 * which adds nothing); through kintone.plugin.app.proxy kintone injects the saved one.
 * No app check: the answer holds nothing of any app (an app key was already matched to its
 * X-Relay-App by the auth middleware, which is what "Test connection" needs to learn).
 */
export function pingRoute(deps: { version: string }) {
  return new Hono().post("/", async (c) => {
    const { json } = await readJsonBody(c);
    const rules = typeof json === "object" && json !== null && "rules" in json ? json.rules : undefined;
    let summary: PingAnswer["rules"];
    if (rules === undefined) {
      summary = { valid: false, count: 0, errors: [{ path: "rules", message: "no rule set was sent: save the plugin settings" }] };
    } else if (typeof rules !== "string") {
      summary = { valid: false, count: 0, errors: [{ path: "rules", message: "must be the rule set as a JSON string" }] };
    } else {
      const parsed = parseRuleSet(rules);
      summary = parsed.ok ? { valid: true, count: parsed.ruleSet.rules.length } : { valid: false, count: 0, errors: parsed.errors };
    }
    const answer: PingAnswer = { ok: true, version: deps.version, rules: summary };
    return c.json(answer);
  });
}
