import type { NotifiedTransition } from "../store/relay-store.js";

/**
 * A status action moves the record's `$revision` up by 2 ("the action, and the status update, are
 * both recorded": https://cybozu.dev/ja/kintone/docs/rest-api/records/update-status/); an edit
 * moves it up by 1. Leaving a status and coming back into it takes at least two actions.
 */
export const ACTION_REVISION_STEP = 2;
const ROUND_TRIP_REVISIONS = 2 * ACTION_REVISION_STEP;

export interface ConfirmedChange {
  /** The record's `$revision` as the relay read it, after confirming the new status. */
  revision: number;
  /** The status the record is in now (the request's `nextStatus`, confirmed in kintone). */
  status: string;
  /** The status the request says the record came from (browser-supplied, so only a hint). */
  claimedFrom: string;
}

export type NotifyDecision = { notify: true } | { notify: false; earlier: NotifiedTransition };

/**
 * Whether a confirmed status change should notify a rule that may have notified this record
 * before. kintone keeps no status history the relay can read, so the decision rests on what the
 * relay recorded when it last notified this (app, record, rule): the revision and the status.
 *
 * - Never notified: notify.
 * - Same revision (or older): the record has not changed at all since; a replay. Skip.
 * - Now in a different status than the one notified: at least one action ran since; notify.
 * - Same status, newer revision: either edits only (each +1) or a round trip out of the status
 *   and back (two actions or more, +4 or more). Notify only when the revision moved by at least a
 *   round trip AND the request claims a real transition into the status (from another one). So
 *   five posts of the same change: one push; approved -> rejected -> approved: two pushes; a
 *   replay after a write-back or a couple of edits: nothing.
 *
 * What this cannot rule out: a user who may edit the record, saves it four times and then replays
 * a request gets one more notification per four saves (kintone's edit history shows them). Only a
 * server-side signal (kintone's status webhook) can tell those apart, and it can feed the same check.
 */
export function decideNotifyOnce(earlier: NotifiedTransition | undefined, change: ConfirmedChange): NotifyDecision {
  if (!earlier) return { notify: true };
  if (change.revision <= earlier.revision) return { notify: false, earlier };
  if (change.status !== earlier.status) return { notify: true };
  const roundTrip = change.revision - earlier.revision >= ROUND_TRIP_REVISIONS;
  const claimsTransition = change.claimedFrom !== change.status;
  return roundTrip && claimsTransition ? { notify: true } : { notify: false, earlier };
}
