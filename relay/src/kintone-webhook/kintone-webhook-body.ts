import { z } from "zod";

/**
 * kintone's webhook JSON, as its help describes it
 * (https://jp.cybozu.help/k/en/user/app_settings/set_webhook/webhook_notification.html):
 * `{id, type, app: {id, name}, record, recordTitle, url}` for records added, edited and moved on
 * by a status action; DELETE_RECORD and ADD_RECORD_COMMENT differ in the rest. kintone signs
 * nothing: beyond the path token this is a hint, and the relay reads the record itself.
 */
const kintoneId = z.union([z.string().regex(/^[1-9][0-9]{0,17}$/), z.number().int().positive()]).transform(String);

export const kintoneWebhookEnvelopeSchema = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(64),
  app: z.looseObject({ id: kintoneId, name: z.string().max(1000).optional() }),
});

const fieldSchema = z.looseObject({ type: z.string(), value: z.unknown() });

/** What the relay reads from a record-carrying webhook (ADD_RECORD, UPDATE_RECORD, UPDATE_STATUS). */
export const kintoneWebhookRecordSchema = z.looseObject({
  record: z.record(z.string(), fieldSchema),
  recordTitle: z.string().optional(),
  url: z.string().optional(),
});

export interface WebhookRecordHint {
  recordId: string;
  revision: number;
  /** The STATUS field's value; undefined when the app has no process management. */
  status: string | undefined;
}

/** The record's id, revision and status from a webhook body, or undefined when they are not there. */
export function readRecordHint(body: unknown): WebhookRecordHint | undefined {
  const parsed = kintoneWebhookRecordSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { record } = parsed.data;
  const id = kintoneId.safeParse(record.$id?.value);
  const revision = Number(record.$revision?.value);
  if (!id.success || !Number.isSafeInteger(revision)) return undefined;
  const status = Object.values(record).find((field) => field.type === "STATUS")?.value;
  return { recordId: id.data, revision, status: typeof status === "string" ? status : undefined };
}
