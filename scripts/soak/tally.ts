import type { KintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import type { LineEmulator } from "../../emulators/line/line-emulator.js";
import { receivedPushes } from "./delivered-pushes.js";
import type { SoakNotification } from "./notification-driver.js";
import type { SoakTap } from "./tap-driver.js";

export interface SoakFigures {
  notificationsSent: number;
  pushesExpected: number;
  /** Distinct X-Line-Retry-Key values among the pushes LINE delivered. */
  pushesDelivered: number;
  /** (order, recipient) pairs LINE delivered more than once, counted once per extra message. */
  duplicated: number;
  /** Pushes owed and never delivered, plus acknowledgements owed and never written. */
  lost: number;
  lostPushes: string[];
  lostAcknowledgements: string[];
  duplicatedPushes: string[];
  acknowledgementsExpected: number;
  acknowledgementsWritten: number;
  commentsDuplicated: number;
  duplicatedComments: string[];
}

export const commentFor = (displayName: string) => `Acknowledged on LINE by ${displayName}`;

/** What reached LINE and kintone, against what the soak owed them. */
export function tally(deps: {
  line: LineEmulator;
  kintone: KintoneEmulator;
  appId: number;
  notifications: readonly SoakNotification[];
  taps: ReadonlyMap<string, SoakTap>;
  displayName: (userId: string) => string;
}): SoakFigures {
  const { line, kintone, appId } = deps;
  const received = receivedPushes(line.delivered);
  const perPair = new Map<string, number>();
  for (const push of received) perPair.set(`${push.orderNo}|${push.userId}`, (perPair.get(`${push.orderNo}|${push.userId}`) ?? 0) + 1);
  const retryKeys = new Set(line.delivered.filter((d) => d.kind !== "reply" && d.retryKey).map((d) => d.retryKey));

  const accepted = deps.notifications.filter((n) => n.accepted);
  const lostPushes: string[] = [];
  for (const notification of accepted) {
    for (const userId of notification.recipients) {
      if (!perPair.has(`${notification.orderNo}|${userId}`)) lostPushes.push(`${notification.orderNo} (record ${notification.recordId}) -> ${userId}`);
    }
  }
  const duplicatedPushes = [...perPair].filter(([, n]) => n > 1).map(([pair, n]) => `${pair} x${n}`);
  const duplicated = [...perPair.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);

  const recordOf = new Map(deps.notifications.map((n) => [n.orderNo, n.recordId]));
  const lostAcknowledgements: string[] = [];
  let acknowledgementsWritten = 0;
  for (const tap of deps.taps.values()) {
    const recordId = recordOf.get(tap.orderNo);
    if (!recordId) continue;
    const text = commentFor(deps.displayName(tap.userId));
    const written = kintone.comments(appId, recordId).filter((c) => c.text === text).length;
    const record = kintone.getRecord(appId, recordId);
    if (written > 0) acknowledgementsWritten += 1;
    if (written === 0 || record["ack_status"]?.value !== "Acknowledged") {
      lostAcknowledgements.push(`${tap.orderNo} (record ${recordId}) <- ${tap.userId}: ${written} comment(s), ack_status ${JSON.stringify(record["ack_status"]?.value)}`);
    }
  }

  const duplicatedComments: string[] = [];
  let commentsDuplicated = 0;
  for (const notification of deps.notifications) {
    const texts = kintone.comments(appId, notification.recordId).map((c) => c.text);
    const counts = new Map<string, number>();
    for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
    for (const [text, n] of counts) {
      if (n < 2) continue;
      commentsDuplicated += n - 1;
      duplicatedComments.push(`${notification.orderNo} (record ${notification.recordId}): "${text}" x${n}`);
    }
  }

  return {
    notificationsSent: accepted.length,
    pushesExpected: accepted.reduce((sum, n) => sum + n.recipients.length, 0),
    pushesDelivered: retryKeys.size,
    duplicated,
    lost: lostPushes.length + lostAcknowledgements.length,
    lostPushes,
    lostAcknowledgements,
    duplicatedPushes,
    acknowledgementsExpected: deps.taps.size,
    acknowledgementsWritten,
    commentsDuplicated,
    duplicatedComments,
  };
}
