import { z } from "zod";
import { renderTemplate } from "../../../common/flex/render-template.js";
import { isValidTimeZone, ruleSetTimeZone } from "../../../common/kintone/date-time.js";
import type { KintoneRecord } from "../../../common/kintone/record.js";
import type { Button } from "../../../common/rules/rule-set.js";
import type { KintoneClient } from "../kintone/kintone-client.js";
import type { RecordChanges } from "../kintone/update-record-checked.js";
import type { DeliveryRow, RelayStore } from "../store/relay-store.js";

/**
 * Everything one acknowledgement writes, decided once, before its first kintone write, and stored
 * with the acknowledgement's claim. A re-run after a crash writes exactly this: it never renders
 * again from a record its own earlier run may already have changed.
 */
export interface AcknowledgementEffects {
  displayName: string;
  /** The rule set's zone the texts were rendered in. */
  timeZone: string;
  /** Field values as kintone's update takes them (`{value}`), exactly as they are written. */
  fields: RecordChanges;
  /** The comment text, or null when the button posts none. */
  comment: string | null;
}

const effectsSchema = z.strictObject({
  displayName: z.string(),
  timeZone: z.string(),
  fields: z.record(z.string(), z.strictObject({ value: z.unknown() })),
  comment: z.string().nullable(),
});

export function parseAcknowledgementEffects(json: string): AcknowledgementEffects {
  const parsed = effectsSchema.parse(JSON.parse(json));
  const fields: RecordChanges = {};
  for (const [code, change] of Object.entries(parsed.fields)) fields[code] = { value: change.value };
  return { ...parsed, fields };
}

/**
 * A kintone DATETIME value as kintone stores it: UTC, whole minutes (kintone drops the seconds),
 * so that a re-run can see the value it wrote is already there.
 */
const kintoneDateTime = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** kintone keeps at most 65,535 characters of a comment. */
const COMMENT_MAX = 65_535;

/**
 * Renders the write-back from the record as it is before the acknowledgement touches it. The
 * comment is rendered from that record with the new field values already in place, so
 * "Ack {{ack_status}} by {{lineName}}" reads "Ack Acknowledged by …" on every run.
 */
export async function decideAcknowledgementEffects(
  deps: { kintone: KintoneClient; store: RelayStore },
  delivery: DeliveryRow,
  button: Button,
  tap: { displayName: string; tappedAt: number },
): Promise<AcknowledgementEffects> {
  const timeZone = await timeZoneOfDelivery(deps.store, delivery);
  const writeBack = button.writeBack;
  const effects: AcknowledgementEffects = { displayName: tap.displayName, timeZone, fields: {}, comment: null };
  if (!writeBack) return effects;
  const readsRecord = writeBack.set !== undefined || writeBack.comment !== undefined;
  const record: KintoneRecord = readsRecord ? await deps.kintone.getRecord(delivery.appId, delivery.recordId) : {};
  const extra = { lineName: tap.displayName, buttonLabel: button.label };
  for (const [code, template] of Object.entries(writeBack.set ?? {})) {
    const text = renderTemplate(template, record, { timeZone, extra, emptyText: "" });
    effects.fields[code] = { value: valueForField(record, code, text) };
  }
  if (writeBack.timestampField) effects.fields[writeBack.timestampField] = { value: kintoneDateTime(tap.tappedAt) };
  if (writeBack.userField) effects.fields[writeBack.userField] = { value: tap.displayName };
  if (writeBack.comment) {
    const after = withValues(record, effects.fields);
    const text = renderTemplate(writeBack.comment, after, { timeZone, extra }).slice(0, COMMENT_MAX);
    effects.comment = text.trim() ? text : null;
  }
  return effects;
}

/** The zone of the rule set the delivery was sent under (messages were rendered in it too). */
async function timeZoneOfDelivery(store: RelayStore, delivery: DeliveryRow): Promise<string> {
  const notification = await store.getNotification(delivery.notificationId);
  let named: string | undefined;
  try {
    const parsed = z.object({ timeZone: z.string().optional() }).safeParse(JSON.parse(notification?.rules ?? "{}"));
    named = parsed.success ? parsed.data.timeZone : undefined;
  } catch {
    named = undefined; // a notification without a readable rule set: the shared default
  }
  return ruleSetTimeZone({ timeZone: named !== undefined && isValidTimeZone(named) ? named : undefined });
}

function withValues(record: KintoneRecord, fields: RecordChanges): KintoneRecord {
  const copy: KintoneRecord = { ...record };
  for (const [code, change] of Object.entries(fields)) {
    const current = record[code];
    if (current) copy[code] = { ...current, value: change.value };
  }
  return copy;
}

/** Multi-choice fields take a list; everything else the text as is. */
function valueForField(record: KintoneRecord, code: string, text: string): unknown {
  const type = record[code]?.type;
  if (type === "CHECK_BOX" || type === "MULTI_SELECT") return text ? text.split(",").map((item) => item.trim()).filter(Boolean) : [];
  return text;
}

/** True when the record already holds every value (a re-run after the write landed). */
export function recordHoldsValues(record: KintoneRecord, fields: RecordChanges): boolean {
  return Object.entries(fields).every(([code, change]) => JSON.stringify(record[code]?.value) === JSON.stringify(change.value));
}
