/**
 * What the sandbox seeds: the demo LINE user (with a profile), the kintone users, a few demo orders
 * sent to that LINE user, and the app the relay's connect flow writes to.
 */
import type { RuleSet } from "../common/rules/rule-set.js";
import { DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS, demoRuleSet } from "../emulators/demo-app.js";
import type { KintoneEmulator, ProcessDefinition } from "../emulators/kintone/kintone-emulator.js";
import { LINK_APP_FIELDS } from "../relay/src/connect/identify-kintone-user.js";

export const SANDBOX_USER = { id: "U5a4d0b1e2c3f40718293a4b5c6d7e8f9", displayName: "Sato Hanako" } as const;
export const SANDBOX_BOT = { userId: "Ufb0c7a1d2e3f40516273849a5b6c7d8e", name: "Orders bot (demo)" } as const;
export const SANDBOX_APP_NAME = "Orders (demo)";

/**
 * The kintone user who reviews orders. The phone in the playground belongs to Sato Hanako, so she
 * is the one who connects her LINE account to this kintone user (`connect` on the phone).
 */
export const SANDBOX_MANAGER = { code: "sato", name: "佐藤 花子" } as const;

/** The app the relay adds a record to with a connecting user's token, to learn who they are (KINTONE_LINK_APP_ID). */
export const SANDBOX_LINK_APP = { id: 90, name: "LINE connections" } as const;

/** The status an order waits in for the manager, and the action that sends it there. */
export const REVIEW_STATUS = "Manager review";
export const REQUEST_APPROVAL = "Request approval";

/**
 * The demo process with one more path: staff may approve an order themselves ("Approve", as
 * before) or send it to the manager ("Request approval"), whose status has 佐藤 as its assignee.
 * Her "Approve" and "Reject" carry the same names as the staff's, so the rule that tells the
 * customer about an approval serves both.
 */
export const SANDBOX_PROCESS: ProcessDefinition = {
  enable: true,
  states: [...DEMO_PROCESS.states.slice(0, 1), REVIEW_STATUS, ...DEMO_PROCESS.states.slice(1)],
  actions: [
    ...DEMO_PROCESS.actions,
    { name: REQUEST_APPROVAL, from: "Submitted", to: REVIEW_STATUS },
    { name: "Approve", from: REVIEW_STATUS, to: "Approved" },
    { name: "Reject", from: REVIEW_STATUS, to: "Rejected" },
  ],
  assignees: { [REVIEW_STATUS]: { type: "ANY", users: [SANDBOX_MANAGER.code] } },
};

const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of the day `days` from now (UTC). */
const dayFromNow = (now: number, days: number): string => new Date(now + days * DAY_MS).toISOString().slice(0, 10);

/**
 * Adds the kintone users, the demo app (process management with a review by 佐藤, LINE-ID field,
 * ack fields) with three orders, and the link app; returns the orders.
 */
export function seedDemoApp(kintone: KintoneEmulator, apiToken: string, now: number): Array<{ id: string; label: string }> {
  kintone.addUser({ ...SANDBOX_MANAGER });
  kintone.addApp({
    id: DEMO_APP_ID,
    name: SANDBOX_APP_NAME,
    fields: DEMO_FIELDS,
    process: SANDBOX_PROCESS,
    apiTokens: [{ token: apiToken, permissions: { view: true, edit: true, add: true } }],
  });
  // As docs/approvals.md tells the kintone administrator: two fields, no API token, process management off.
  kintone.addApp({
    id: SANDBOX_LINK_APP.id,
    name: SANDBOX_LINK_APP.name,
    fields: {
      [LINK_APP_FIELDS.lineUserId]: { type: "SINGLE_LINE_TEXT", code: LINK_APP_FIELDS.lineUserId, label: "LINE user ID" },
      [LINK_APP_FIELDS.connectedAt]: { type: "DATETIME", code: LINK_APP_FIELDS.connectedAt, label: "Connected at" },
    },
    apiTokens: [],
  });
  const orders = [
    { order_no: "A-1001", customer: "Tanaka Trading", amount: "128000", priority: "High", due_date: dayFromNow(now, 7), notes: "Deliver to the side entrance." },
    { order_no: "A-1002", customer: "Suzuki Foods", amount: "54000", priority: "Normal", due_date: dayFromNow(now, 14), notes: "" },
    { order_no: "A-1003", customer: "Kobayashi Design", amount: "9800", priority: "Low", due_date: dayFromNow(now, 21), notes: "" },
  ];
  return orders.map((values) => ({
    id: kintone.addRecord(DEMO_APP_ID, { ...values, line_user_id: SANDBOX_USER.id }).id,
    label: values.order_no,
  }));
}

/**
 * The demo app's rules in the sandbox: the demo approval rule (it names its action, so only the
 * record page, or a step taken from LINE, can serve it), a rule kintone's webhook can serve (any
 * change into "Shipped": made on the record page, through the REST API or by an integration), a
 * reminder three days before the due date at 09:00 (no seeded order is due within three days, so
 * nothing is sent at start), and the manager's review: whoever the order waits for is asked on
 * the LINE account they connected, and takes the step from there as themselves.
 */
export function sandboxRuleSet(): RuleSet {
  const demo = demoRuleSet() as RuleSet;
  return {
    ...demo,
    rules: [
      ...demo.rules,
      {
        id: "shipped",
        name: "Shipped -> tell the customer (also when changed outside the browser)",
        trigger: { actions: [], from: [], to: ["Shipped"] },
        recipients: { fields: ["line_user_id"], ids: [] },
        message: { title: "Order {{order_no}} shipped", fields: ["customer", "due_date"] },
        buttons: [],
      },
      {
        id: "due-soon",
        name: "Reminder: 3 days before the due date",
        trigger: { actions: [], from: [], to: [], schedule: { field: "due_date", offsetDays: -3, at: "09:00" } },
        recipients: { fields: ["line_user_id"], ids: [] },
        message: { title: "Order {{order_no}} is due soon", fields: ["customer", "due_date"] },
        buttons: [],
      },
      {
        id: "review",
        name: "Manager review -> ask the assignee on LINE (承認 / 却下 as the kintone user)",
        trigger: { actions: [], from: [], to: [REVIEW_STATUS] },
        recipients: { fields: [], ids: [], assignees: true },
        message: { title: "Order {{order_no}} needs your approval (承認依頼)", fields: ["customer", "amount", "priority"] },
        buttons: [
          { id: "approve", label: "承認", action: "Approve" },
          { id: "reject", label: "却下", action: "Reject", askReason: true },
        ],
        audience: "staff",
      },
    ],
  };
}
