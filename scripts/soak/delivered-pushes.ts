import type { Delivery } from "../../emulators/line/line-emulator.js";

/** One message LINE actually handed to one user (a 409 for a retry key already used hands nothing). */
export interface ReceivedPush {
  orderNo: string;
  userId: string;
  retryKey: string | undefined;
  /** The postback data of the message's first button (what the user's tap sends back). */
  postbackData: string | undefined;
}

const ORDER = /Order (SK-\d+) approved/;
const POSTBACK = /"data":"([^"]+)"/;

/** Reads what LINE delivered to whom: push and multicast, minus users who blocked the account. */
export function receivedPushes(delivered: readonly Delivery[], from = 0): ReceivedPush[] {
  const received: ReceivedPush[] = [];
  for (const delivery of delivered.slice(from)) {
    if (delivery.kind === "reply") continue;
    const text = JSON.stringify(delivery.messages);
    const orderNo = ORDER.exec(text)?.[1];
    if (!orderNo) continue;
    const postbackData = POSTBACK.exec(text)?.[1];
    for (const userId of delivery.to) {
      if (delivery.blocked.includes(userId)) continue;
      received.push({ orderNo, userId, retryKey: delivery.retryKey, postbackData });
    }
  }
  return received;
}
