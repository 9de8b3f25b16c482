import type { Clock } from "../clock.js";
import type { KintoneClient } from "../kintone/kintone-client.js";
import { updateRecordChecked } from "../kintone/update-record-checked.js";
import type { AcknowledgementKey, AcknowledgementRow, DeliveryRow, RelayStore } from "../store/relay-store.js";
import { type AcknowledgementEffects, recordHoldsValues } from "./acknowledgement-effects.js";

/**
 * How far kintone's clock may be behind the relay's when a re-run looks for its own comment:
 * kintone stamps comments with its own clock, in whole seconds.
 */
export const COMMENT_CLOCK_SKEW_MS = 120_000;

export interface WriteAcknowledgementDeps {
  store: RelayStore;
  kintone: KintoneClient;
  clock: Clock;
}

/**
 * Writes the stored effects of one acknowledgement: the field values (skipped when the record
 * already holds them: an earlier run's write landed), then the comment, once.
 */
export async function writeAcknowledgementEffects(
  deps: WriteAcknowledgementDeps,
  delivery: DeliveryRow,
  key: AcknowledgementKey,
  ack: AcknowledgementRow,
  effects: AcknowledgementEffects,
): Promise<void> {
  const { store, kintone } = deps;
  if (Object.keys(effects.fields).length > 0) {
    await updateRecordChecked(kintone, delivery.appId, delivery.recordId, (record) =>
      recordHoldsValues(record, effects.fields) ? undefined : effects.fields,
    );
  }
  if (effects.comment === null || ack.commentId !== null) return;
  if (ack.state === "commenting") {
    const own = await findOwnComment(deps, delivery, ack.commentingAt ?? ack.tappedAt, effects.comment);
    if (own) {
      await store.setAcknowledgementComment(key, own);
      return;
    }
  }
  await store.markAcknowledgementCommenting(key, deps.clock.now());
  const posted = await kintone.addComment(delivery.appId, delivery.recordId, effects.comment);
  await store.setAcknowledgementComment(key, posted.id);
}

/**
 * An earlier run committed "commenting" and then died (or lost the connection) before it stored
 * the comment's id: did kintone post it? A kintone comment carries only its text, its poster (the
 * API token always posts as Administrator) and its time, and the id comes back only in the answer
 * to the POST that was lost. So the comment is ours when its text is exactly the stored text, it
 * was posted after this acknowledgement was about to post it (less kintone's clock skew), and no
 * other acknowledgement of this record has already claimed its id (two taps of one user on two
 * notifications of one record render the same text). Two comments of identical text posted in
 * that window by two interrupted runs at once are the one case this cannot tell apart.
 */
async function findOwnComment(deps: WriteAcknowledgementDeps, delivery: DeliveryRow, about: number, text: string): Promise<string | undefined> {
  const since = about - COMMENT_CLOCK_SKEW_MS;
  const comments = await deps.kintone.getCommentsSince(delivery.appId, delivery.recordId, since);
  const taken = new Set(await deps.store.listAcknowledgementCommentIds(delivery.appId, delivery.recordId));
  // Oldest first: when one run posted twice (cannot happen after this fix, could before), keep the first.
  const candidates = comments.filter((comment) => comment.text.trim() === text.trim() && !taken.has(comment.id)).reverse();
  return candidates[0]?.id;
}
