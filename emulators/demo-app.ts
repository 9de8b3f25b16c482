import type { FieldProperties } from "../common/kintone/record.js";

/**
 * The demo app the tests, the benchmarks and the sandbox share: an order with process
 * management, a field holding LINE user IDs and fields an acknowledgement writes back into.
 */
export const DEMO_APP_ID = 1;
export const DEMO_API_TOKEN = "DemoApiToken0123456789abcdefDEMO";

export const DEMO_FIELDS: FieldProperties = {
  order_no: { type: "SINGLE_LINE_TEXT", code: "order_no", label: "Order number" },
  customer: { type: "SINGLE_LINE_TEXT", code: "customer", label: "Customer" },
  amount: { type: "NUMBER", code: "amount", label: "Amount" },
  priority: {
    type: "DROP_DOWN",
    code: "priority",
    label: "Priority",
    options: { High: { label: "High", index: "0" }, Normal: { label: "Normal", index: "1" }, Low: { label: "Low", index: "2" } },
  },
  due_date: { type: "DATE", code: "due_date", label: "Due date" },
  notes: { type: "MULTI_LINE_TEXT", code: "notes", label: "Notes" },
  line_user_id: { type: "MULTI_LINE_TEXT", code: "line_user_id", label: "LINE user ID" },
  ack_status: { type: "SINGLE_LINE_TEXT", code: "ack_status", label: "Acknowledgement" },
  ack_at: { type: "DATETIME", code: "ack_at", label: "Acknowledged at" },
  ack_by: { type: "SINGLE_LINE_TEXT", code: "ack_by", label: "Acknowledged by" },
};

export const DEMO_PROCESS = {
  enable: true,
  states: ["Submitted", "Approved", "Shipped", "Rejected"],
  actions: [
    { name: "Approve", from: "Submitted", to: "Approved" },
    { name: "Reject", from: "Submitted", to: "Rejected" },
    { name: "Ship", from: "Approved", to: "Shipped" },
  ],
};

/** A rule set that notifies the customer on approval, with a "Got it" button that writes back. */
export function demoRuleSet(options: { fixedIds?: string[] } = {}) {
  return {
    version: 1 as const,
    language: "en" as const,
    rules: [
      {
        id: "approved",
        name: "Approved -> tell the customer",
        trigger: { actions: ["Approve"], from: [], to: ["Approved"] },
        recipients: { fields: ["line_user_id"], ids: options.fixedIds ?? [] },
        message: { title: "Order {{order_no}} approved", fields: ["customer", "amount", "due_date"], recordLink: true },
        buttons: [
          {
            id: "ack",
            label: "Got it",
            writeBack: {
              set: { ack_status: "Acknowledged" },
              timestampField: "ack_at",
              userField: "ack_by",
              comment: "Acknowledged on LINE by {{lineName}}",
            },
            reply: "Thanks, we noted it.",
          },
        ],
      },
    ],
  };
}
