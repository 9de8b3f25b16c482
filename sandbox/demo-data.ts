/** What the sandbox seeds: the demo LINE user (with a profile) and a few demo orders sent to them. */
import type { RuleSet } from "../common/rules/rule-set.js";
import { DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS, demoRuleSet } from "../emulators/demo-app.js";
import type { KintoneEmulator } from "../emulators/kintone/kintone-emulator.js";

export const SANDBOX_USER = { id: "U5a4d0b1e2c3f40718293a4b5c6d7e8f9", displayName: "Sato Hanako" } as const;
export const SANDBOX_BOT = { userId: "Ufb0c7a1d2e3f40516273849a5b6c7d8e", name: "Orders bot (demo)" } as const;
export const SANDBOX_APP_NAME = "Orders (demo)";

const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of the day `days` from now (UTC). */
const dayFromNow = (now: number, days: number): string => new Date(now + days * DAY_MS).toISOString().slice(0, 10);

/** Adds the demo app (process management, LINE-ID field, ack fields) and three orders; returns them. */
export function seedDemoApp(kintone: KintoneEmulator, apiToken: string, now: number): Array<{ id: string; label: string }> {
  kintone.addApp({
    id: DEMO_APP_ID,
    name: SANDBOX_APP_NAME,
    fields: DEMO_FIELDS,
    process: DEMO_PROCESS,
    apiTokens: [{ token: apiToken, permissions: { view: true, edit: true, add: true } }],
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
 * record page can serve it), a rule kintone's webhook can serve (any change into "Shipped": made
 * on the record page, through the REST API or by an integration), and a reminder three days
 * before the due date at 09:00. No seeded order is due within three days, so nothing is sent
 * at start.
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
    ],
  };
}
