import { createHash } from "node:crypto";
import { z } from "zod";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import type { RuleSet } from "../../../common/rules/rule-set.js";
import { HttpError } from "../http/http-error.js";
import type { NotificationInput } from "../store/relay-store.js";

/** kintone IDs arrive as numbers or numeric strings; both become the canonical string. */
const kintoneId = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]{0,17}$/, "must be a positive whole number")])
  .transform(String);
const label = z.string().min(1, "must not be empty").max(200, "must be at most 200 characters");

const requestSchema = z.strictObject({
  appId: kintoneId,
  recordId: kintoneId,
  action: label,
  status: label,
  nextStatus: label,
  rules: z.string({ error: "must be the rule set as a JSON string (saved by the settings page in the proxy config)" }),
});

export interface ParsedNotificationRequest {
  input: NotificationInput;
  ruleSet: RuleSet;
  dedupKey: string;
}

/** Parses `POST /v1/notifications` once; any problem is a 400 naming the field or rule path. */
export function parseNotificationRequest(json: unknown): ParsedNotificationRequest {
  const result = requestSchema.safeParse(json);
  if (!result.success) {
    const details = result.error.issues.map((issue) => ({
      path: issue.path.join(".") || "(body)",
      message: issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message,
    }));
    throw new HttpError(400, "invalid_request", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
  }
  const body = result.data;
  const rules = parseRuleSet(body.rules);
  if (!rules.ok) {
    const details = rules.errors.map((error) => ({ path: error.path ? `rules.${error.path}` : "rules", message: error.message }));
    throw new HttpError(400, "invalid_rules", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
  }
  const dedupKey = createHash("sha256")
    .update([body.appId, body.recordId, body.action, body.status, body.nextStatus].join("\u0000"))
    .digest("hex");
  return { input: body, ruleSet: rules.ruleSet, dedupKey };
}
