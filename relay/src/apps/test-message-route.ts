import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { z } from "zod";
import type { Language } from "../../../common/i18n/relay-texts.js";
import { ruleSetTimeZone } from "../../../common/kintone/date-time.js";
import type { FieldProperties, KintoneRecord } from "../../../common/kintone/record.js";
import { buildFlexMessage } from "../../../common/flex/build-flex-message.js";
import { LINE_ID_PATTERN, checkRuleSet } from "../../../common/rules/check-rule-set.js";
import { parseRuleSet } from "../../../common/rules/parse-rule-set.js";
import type { RuleSet } from "../../../common/rules/rule-set.js";
import { HttpError } from "../http/http-error.js";
import { requireAppAccess } from "../http/principal.js";
import { readJsonBody } from "../http/read-json-body.js";
import { newId } from "../ids.js";
import { KintoneError, type KintoneClient } from "../kintone/kintone-client.js";
import type { LineCallOutcome } from "../line/line-http.js";
import type { PushAnswer, PushSender } from "../line/push-sender.js";
import type { Logger } from "../logger.js";
import type { PostbackTokens } from "../postback-token.js";
import { resolveRecipients } from "../notifications/resolve-recipients.js";
import type { RelayStore } from "../store/relay-store.js";
import { APP_ID_PATTERN, invalidRules } from "./rules-body.js";

export interface TestMessageDeps {
  store: Pick<RelayStore, "getAppRules">;
  kintone: Pick<KintoneClient, "getRecord">;
  formFields: { get(appId: string): Promise<FieldProperties> };
  push: PushSender;
  tokens: PostbackTokens;
  logger: Logger;
  kintoneBaseUrl: string;
  /** RELAY_LANGUAGE: the message's language when the rule set names none, as for real notifications. */
  language?: Language;
  /** Waits between the attempts of one test push (default 500 ms); tests pass 0. */
  retryDelayMs?: number;
}


const testMessageBody = z.strictObject({
  ruleId: z.string({ error: "must be the ID of a rule" }).min(1, { error: "must be the ID of a rule" }),
  recordId: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(APP_ID_PATTERN, { error: "must be a record number" })),
  to: z.string({ error: "must be a LINE user, group or room ID" }).regex(LINE_ID_PATTERN, { error: "must be a LINE user, group or room ID (U, C or R and 32 characters 0-9 a-f)" }),
  rules: z.string({ error: "must be the rule set as a JSON string" }).optional(),
});

const recipientsBody = z.strictObject({
  ruleId: testMessageBody.shape.ruleId,
  recordId: testMessageBody.shape.recordId,
  rules: testMessageBody.shape.rules,
});

/** Three tries at most, each with the same body and X-Line-Retry-Key: LINE sends it once. */
const ATTEMPTS = 3;

/**
 * `POST /v1/apps/{appId}/test-message` `{ruleId, recordId, to, rules?}` ("Send a test message" on
 * the settings page; an app key only for its own app). Builds the message `ruleId` would send for
 * the record, the way the notification worker does (same builder, language, zone and wording;
 * the rule set on screen when `rules` is given, else the stored one), pushes it to `to` and answers
 * with what LINE said. Nothing is stored: its buttons name no delivery, so a tap on them records
 * nothing and gets the "no longer valid" reply.
 *
 * `POST /v1/apps/{appId}/test-message/recipients` `{ruleId, recordId, rules?}` -> `{recipients:
 * [{field, userId}], invalid}`: the LINE users the rule would send to for that record, read from
 * its recipient fields by the worker's resolveRecipients, so the admin can pick "this record's
 * customer". A POST, as the rule set on screen travels in the body.
 */
export function testMessageRoute(deps: TestMessageDeps) {
  return new Hono()
    .post("/:appId/test-message/recipients", async (c) => {
      // The LINE IDs a rule would send to for the record, read from its recipient fields by the
      // notification worker's own resolveRecipients: the admin picks "this record's customer".
      const appId = appIdOf(c.req.param("appId"));
      requireAppAccess(c, appId);
      const { json } = await readJsonBody(c);
      const { ruleId, recordId, rules } = parseBody(recipientsBody, json);
      const { rule, record } = await readRuleAndRecord(deps, appId, ruleId, recordId, rules);
      const { fromFields, invalid } = resolveRecipients(rule, record);
      return c.json({
        ruleId,
        recordId,
        recipients: fromFields.filter((r) => r.id.startsWith("U")).map((r) => ({ field: r.field, userId: r.id })),
        invalid,
      });
    })
    .post("/:appId/test-message", async (c) => {
      const appId = appIdOf(c.req.param("appId"));
      requireAppAccess(c, appId);
      const { json } = await readJsonBody(c);
      const { ruleId, recordId, to, rules } = parseBody(testMessageBody, json);
      const { ruleSet, rule, record, fields } = await readRuleAndRecord(deps, appId, ruleId, recordId, rules);

      const status = Object.values(record).find((field) => field.type === "STATUS");
      const nextStatus = typeof status?.value === "string" ? status.value : (rule.trigger.to[0] ?? "");
      const testId = newId("t");
      const locale = ruleSet.language ?? deps.language ?? "ja";
      const message = buildFlexMessage({
        rule,
        record,
        fields,
        change: { action: rule.trigger.actions[0] ?? "", status: rule.trigger.from[0] ?? "", nextStatus },
        recordUrl: `${deps.kintoneBaseUrl}/k/${appId}/show#record=${recordId}`,
        postbackData: (button) => deps.tokens.sign({ deliveryId: testId, buttonId: button.id }),
        timeZone: ruleSetTimeZone(ruleSet),
        locale,
        texts: ruleSet.texts,
      });

      // Body and retry key fixed before the first attempt, as for every push (LINE: X-Line-Retry-Key).
      const pushBody = JSON.stringify({ to, messages: [message] });
      const retryKey = randomUUID();
      let outcome: LineCallOutcome<PushAnswer> = await deps.push.send("push", pushBody, retryKey);
      for (let attempt = 1; attempt < ATTEMPTS && outcome.kind === "retryable"; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, deps.retryDelayMs ?? 500));
        outcome = await deps.push.send("push", pushBody, retryKey);
      }
      deps.logger.info("test message", { app: appId, rule: ruleId, record: recordId, outcome: outcome.kind });

      const sent = { ruleId, recordId, to, language: locale, altText: message.altText };
      switch (outcome.kind) {
        case "accepted":
          return c.json({ sent: true, ...sent, line: { status: outcome.status, requestId: outcome.requestId, sentMessages: outcome.body?.sentMessages ?? [] } });
        case "duplicate":
          return c.json({ sent: true, ...sent, line: { status: 409, requestId: outcome.requestId, acceptedRequestId: outcome.acceptedRequestId } });
        case "rejected":
          return c.json(
            {
              error: {
                code: "line_rejected",
                message: `LINE refused the message (HTTP ${outcome.status}): ${outcome.message}`,
                details: outcome.details.map((d) => ({ path: d.property ?? "", message: d.message ?? "" })),
              },
              line: { status: outcome.status, requestId: outcome.requestId, message: outcome.message },
            },
            502,
          );
        case "retryable":
          return c.json(
            {
              error: { code: "line_unavailable", message: `LINE did not take the message: ${outcome.message}` },
              line: { status: outcome.status, requestId: outcome.requestId ?? null, message: outcome.message },
            },
            503,
          );
      }
    });
}

function appIdOf(appId: string): string {
  if (!APP_ID_PATTERN.test(appId)) {
    throw new HttpError(400, "invalid_request", "appId: must be a positive whole number", [{ path: "appId", message: "must be a positive whole number" }]);
  }
  return appId;
}

function parseBody<T>(schema: z.ZodType<T>, json: unknown): T {
  const body = schema.safeParse(json);
  if (body.success) return body.data;
  const details = body.error.issues.map((issue) => ({
    path: issue.path.join(".") || "(body)",
    message: issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message,
  }));
  throw new HttpError(400, "invalid_request", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
}

/** The rule (from the rule set on screen, else the stored one), the record and the app's form, checked as the worker checks them. */
async function readRuleAndRecord(deps: TestMessageDeps, appId: string, ruleId: string, recordId: string, rules: string | undefined) {
  const ruleSet = await ruleSetFor(deps, appId, rules);
  const rule = ruleSet.rules.find((r) => r.id === ruleId);
  if (!rule) {
    throw new HttpError(404, "unknown_rule", `the rule set has no rule "${ruleId}"`, [{ path: "ruleId", message: `no rule "${ruleId}"` }]);
  }

  let record: KintoneRecord;
  let fields: FieldProperties;
  try {
    [record, fields] = await Promise.all([deps.kintone.getRecord(appId, recordId), deps.formFields.get(appId)]);
  } catch (error) {
    if (error instanceof KintoneError && error.isMissingRecord) {
      throw new HttpError(404, "record_missing", `app ${appId} has no record ${recordId}`, [{ path: "recordId", message: "no such record" }]);
    }
    throw new HttpError(503, "kintone_unavailable", `kintone could not be read: ${(error as Error).message}`);
  }
  // The worker refuses a rule that no longer fits the app's form; a test of it says why, in the same words.
  const misfits = checkRuleSet({ ...ruleSet, rules: [rule] }, fields);
  if (misfits.length > 0) throw invalidRules(misfits.map((p) => ({ ...p, path: `rules[${ruleSet.rules.indexOf(rule)}]${p.path.replace(/^rules\[\d+\]/, "")}` })));
  return { ruleSet, rule, record, fields };
}

async function ruleSetFor(deps: TestMessageDeps, appId: string, rules: string | undefined): Promise<RuleSet> {
  let text = rules;
  if (text === undefined) {
    const stored = await deps.store.getAppRules(appId);
    if (!stored) throw new HttpError(404, "no_rules", `no rule set is registered for app ${appId}: save the plugin settings, or send the rules`);
    text = stored.rules;
  }
  const parsed = parseRuleSet(text);
  if (!parsed.ok) throw invalidRules(parsed.errors);
  return parsed.ruleSet;
}
