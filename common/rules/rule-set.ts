import { z } from "zod";
import { LANGUAGES, type OverridableTextKey } from "../i18n/relay-texts.js";
import { isValidTimeZone } from "../kintone/date-time.js";

/**
 * Rule set v1: what the admin configures on the settings page and what the relay receives,
 * tamper-proof, in the proxy config. This zod schema is the single source: the JSON Schema in
 * `rule-set.schema.json` is generated from it (`npm run schema`) and a test keeps the two in step.
 */

const fieldCode = z.string().min(1).max(128);
const lineId = z.string().min(1).max(64);
/** A kintone user's login name (CREATOR.code, STATUS_ASSIGNEE[].code). */
const kintoneUserCode = z.string().min(1).max(128);

export const conditionOps = [
  "eq",
  "ne",
  "in",
  "notIn",
  "contains",
  "empty",
  "notEmpty",
  "gt",
  "gte",
  "lt",
  "lte",
] as const;
export type ConditionOp = (typeof conditionOps)[number];

const conditionValue = z.union([z.string(), z.number(), z.array(z.string())]);

export const conditionSchema = z.strictObject({
  field: fieldCode,
  op: z.enum(conditionOps),
  value: conditionValue.optional(),
});

export const whenSchema = z.union([
  z.strictObject({ all: z.array(conditionSchema).max(50) }),
  z.strictObject({ any: z.array(conditionSchema).max(50) }),
]);

export const writeBackSchema = z.strictObject({
  set: z.record(fieldCode, z.string().max(65_535)).optional(),
  timestampField: fieldCode.optional(),
  userField: fieldCode.optional(),
  comment: z.string().max(65_535).optional(),
});

/**
 * A button either writes an acknowledgement back (`writeBack`, with the relay's API token) or takes
 * a process-management step as the kintone user who taps it (`action`, with that user's own
 * OAuth token; kintone checks that they are the assignee). Never both: the two act as different
 * kintone users, and a write-back would move the revision the step was decided on.
 * check-rule-set.ts refuses a button with both, and `askReason` without `action`.
 */
export const buttonSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1-32 of A-Z a-z 0-9 _ -"),
  label: z.string().min(1).max(40),
  writeBack: writeBackSchema.optional(),
  /** Shown after the tap: for a write-back, instead of the default thanks; for an action, once the step was taken. */
  reply: z.string().min(1).max(5000).optional(),
  /** The process-management action (its name as the app's process settings spell it) a tap runs as the tapping user. */
  action: z.string().min(1).max(200).optional(),
  /** With `action`: ask the user for a reason first, post it as their comment on the record, then take the step. */
  askReason: z.boolean().optional(),
});

/**
 * A reminder: every day at `at` (HH:MM in the rule set's zone) the relay notifies the records whose
 * DATE or DATETIME `field` falls on today - offsetDays (offsetDays -1: the day before the date).
 */
export const scheduleSchema = z.strictObject({
  field: fieldCode,
  offsetDays: z.number().int("must be a whole number of days").min(-365).max(365),
  at: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "must be HH:MM (00:00 to 23:59)"),
});

/**
 * A status change (actions / from / to; absent or empty = any), or a schedule. A rule with a
 * schedule fires only on its schedule, never on a status change.
 */
export const triggerSchema = z.strictObject({
  actions: z.array(z.string().min(1)).max(100).default([]),
  from: z.array(z.string().min(1)).max(100).default([]),
  to: z.array(z.string().min(1)).max(100).default([]),
  schedule: scheduleSchema.optional(),
});

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1-32 of A-Z a-z 0-9 _ -"),
  name: z.string().max(200).optional(),
  trigger: triggerSchema,
  when: whenSchema.optional(),
  recipients: z.strictObject({
    fields: z.array(fieldCode).max(20),
    ids: z.array(lineId).max(500),
    /**
     * The record's assignees after the change (its STATUS_ASSIGNEE), each reached on the LINE
     * account they linked to their kintone user; an assignee who has not linked is listed as
     * "not linked" and not sent to.
     */
    assignees: z.boolean().optional(),
    /** kintone users (login names), reached the same way. */
    users: z.array(kintoneUserCode).max(100).optional(),
  }),
  message: z.strictObject({
    title: z.string().min(1).max(400),
    fields: z.array(fieldCode).max(30),
    recordLink: z.boolean().optional(),
  }),
  buttons: z.array(buttonSchema).max(3),
  /**
   * Who reads the message: "customer" (the default) or "staff". Only staff can open kintone, so
   * the "Open in kintone" button is on by default for staff rules and off for customer rules
   * (`message.recordLink` decides when set).
   */
  audience: z.enum(["customer", "staff"]).optional(),
  /** Plugin side: refuse the action (event.error) when the relay refuses the notification. */
  blockOnFailure: z.boolean().optional(),
});

const replyText = z.string().min(1).max(5000).optional();
export const textOverridesSchema = z.strictObject({
  /** A LINE action label: at most 40 characters. */
  openInKintone: z.string().min(1).max(40).optional(),
  done: replyText,
  already: replyText,
  notYours: replyText,
  unknown: replyText,
  linked: replyText,
} satisfies Record<OverridableTextKey, z.ZodOptional<z.ZodString>>);

export const ruleSetSchema = z
  .strictObject({
    version: z.literal(1),
    /**
     * The zone in which date conditions are judged and dates are shown (e.g. "Asia/Tokyo"), so
     * the browser and the relay agree. Absent: DEFAULT_RULE_SET_TIME_ZONE (Asia/Tokyo) on both sides.
     */
    timeZone: z.string().max(64).refine(isValidTimeZone, "must be an IANA time zone such as Asia/Tokyo").optional(),
    /**
     * The language of every text the relay writes to LINE users for this rule set (button and
     * date labels, alt text, replies). The settings page fills in the admin's kintone language.
     * Absent: the relay's RELAY_LANGUAGE.
     */
    language: z.enum(LANGUAGES).optional(),
    /** The admin's own wording for the relay's default texts of this rule set's messages. */
    texts: textOverridesSchema.optional(),
    rules: z.array(ruleSchema).max(100),
  })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "id"], message: `duplicate rule id "${rule.id}"` });
      }
      seen.add(rule.id);
      const { schedule, actions, from, to } = rule.trigger;
      if (schedule && actions.length + from.length + to.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "trigger", "schedule"],
          message: "a schedule trigger takes no actions, from or to (a reminder is not a status change)",
        });
      }
      const buttonIds = new Set<string>();
      rule.buttons.forEach((button, j) => {
        if (buttonIds.has(button.id)) {
          ctx.addIssue({
            code: "custom",
            path: ["rules", i, "buttons", j, "id"],
            message: `duplicate button id "${button.id}"`,
          });
        }
        buttonIds.add(button.id);
      });
      const conditions = rule.when ? ("all" in rule.when ? rule.when.all : rule.when.any) : [];
      conditions.forEach((condition, k) => {
        const needsValue = condition.op !== "empty" && condition.op !== "notEmpty";
        if (needsValue && condition.value === undefined) {
          const key = rule.when && "all" in rule.when ? "all" : "any";
          ctx.addIssue({
            code: "custom",
            path: ["rules", i, "when", key, k, "value"],
            message: `op "${condition.op}" needs a value`,
          });
        }
      });
    });
  });

export type RuleSet = z.infer<typeof ruleSetSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type When = z.infer<typeof whenSchema>;
export type Button = z.infer<typeof buttonSchema>;
export type Schedule = z.infer<typeof scheduleSchema>;
export type WriteBack = z.infer<typeof writeBackSchema>;
