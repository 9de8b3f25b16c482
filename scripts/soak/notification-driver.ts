import { demoRuleSet } from "../../emulators/demo-app.js";
import type { KintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { type Random, sleep } from "./random.js";

export interface SoakNotification {
  orderNo: string;
  recordId: string;
  recipients: string[];
  /** The relay answered 202: from then on the push to every recipient is owed. */
  accepted: boolean;
  attempts: number;
}

/**
 * Staff running "Approve": a new order with one to three LINE users, the plugin's request
 * (POST /v1/notifications, as kintone's proxy sends it) and the status change in kintone. A request
 * the relay did not answer 202 (down, restarting, 503) is sent again until it is, as an admin would
 * retry a failed action; the relay gives the same change the same id.
 */
export function createNotificationDriver(deps: {
  kintone: KintoneEmulator;
  appId: number;
  relaySecret: string;
  relayUrl: () => string | null;
  users: readonly string[];
  random: Random;
}) {
  const { kintone, appId, random } = deps;
  const notifications: SoakNotification[] = [];
  /** Answers no fault explains (each one fails the run). */
  const problems: string[] = [];
  const rules = JSON.stringify(demoRuleSet());

  async function post(recordId: string): Promise<number> {
    const url = deps.relayUrl();
    if (!url) return 0;
    try {
      const response = await fetch(`${url}/v1/notifications`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${deps.relaySecret}` },
        body: JSON.stringify({ appId, recordId, action: "Approve", status: "Submitted", nextStatus: "Approved", rules }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0; // refused, reset or timed out
    }
  }

  async function notifyOne(index: number): Promise<void> {
    const recipients: string[] = [];
    const wanted = random.int(1, 3);
    while (recipients.length < wanted) {
      const user = random.pick(deps.users);
      if (!recipients.includes(user)) recipients.push(user);
    }
    const orderNo = `SK-${index}`;
    const { id: recordId } = kintone.addRecord(appId, { order_no: orderNo, customer: `Soak ${index}`, line_user_id: recipients.join("\n") });
    const notification: SoakNotification = { orderNo, recordId, recipients, accepted: false, attempts: 0 };
    notifications.push(notification);
    let actionRun = false;
    for (;;) {
      notification.attempts += 1;
      const status = await post(recordId);
      if (!actionRun) {
        // The proceed event fires before kintone changes the status; the change lands right after.
        kintone.runAction(appId, recordId, "Approve");
        actionRun = true;
      }
      if (status === 202) {
        notification.accepted = true;
        return;
      }
      if (status !== 0 && status !== 503 && status !== 500) {
        problems.push(`POST /v1/notifications for ${orderNo} answered ${status}: not a fault the soak injects`);
        return;
      }
      await sleep(random.int(300, 1_000));
    }
  }

  let index = 0;
  return {
    notifications,
    problems,
    /** Starts one notification; it keeps retrying in the background until accepted. */
    startOne(): void {
      index += 1;
      const orderIndex = index;
      notifyOne(orderIndex).catch((error: unknown) => problems.push(`notification SK-${orderIndex}: ${(error as Error).message}`));
    },
  };
}
