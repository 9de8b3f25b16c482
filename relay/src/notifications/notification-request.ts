import { createHash } from "node:crypto";
import { z } from "zod";
import { invalidRules } from "../apps/rules-body.js";
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
    // `ja` beside each English message, as the rule refusals carry it: the record page's staff notice shows it to Japanese users.
    const details = result.error.issues.map((issue) => ({
      path: issue.path.join(".") || "(body)",
      message: issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message,
      ja: requestIssueJa(issue),
    }));
    throw new HttpError(400, "invalid_request", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
  }
  const body = result.data;
  const rules = parseRuleSet(body.rules);
  // The same refusal, paths and Japanese words as PUT /v1/apps/{appId}/rules (rules-body.ts).
  if (!rules.ok) throw invalidRules(rules.errors);
  const dedupKey = createHash("sha256")
    .update([body.appId, body.recordId, body.action, body.status, body.nextStatus].join("\u0000"))
    .digest("hex");
  return { input: body, ruleSet: rules.ruleSet, dedupKey };
}

/** The Japanese words for a refused request field (full-width brackets, as the rule refusals). */
function requestIssueJa(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `不明な項目「${issue.keys.join("」「")}」があります`;
  const field = issue.path[0];
  if (field === undefined) return "本文はJSONオブジェクトにしてください";
  if (field === "appId" || field === "recordId") return "正の整数で指定してください";
  if (field === "rules") return "ルールセットをJSON文字列で指定してください（設定画面がプロキシ設定に保存したもの）";
  if (issue.code === "too_small") return "空にはできません";
  if (issue.code === "too_big") return "200文字以内で指定してください";
  return "文字列で指定してください";
}
