/** What the sandbox seeds: the demo LINE user (with a profile) and a few demo orders sent to them. */
import { DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS } from "../emulators/demo-app.js";
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
