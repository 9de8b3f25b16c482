import type { KintoneRecord } from "../../../common/kintone/record.js";
import type { Rule } from "../../../common/rules/rule-set.js";

/** A LINE user (U), group (C) or room (R) ID: one letter and 32 lower-case hex digits. */
export const LINE_ID = /^[UCR][0-9a-f]{32}$/;

export interface ResolvedRecipients {
  valid: string[];
  /** The valid IDs read from the rule's record fields, with the field each came from (first one when in several). */
  fromFields: Array<{ field: string; id: string }>;
  invalid: Array<{ recipientId: string; detail: string }>;
}

const TEXT_TYPES = new Set(["SINGLE_LINE_TEXT", "MULTI_LINE_TEXT"]);

/**
 * Recipients of one rule: LINE IDs from the record fields it names (one ID a line) and its fixed
 * IDs, de-duplicated in order. Anything that is not a LINE ID is reported, never sent to.
 */
export function resolveRecipients(rule: Rule, record: KintoneRecord): ResolvedRecipients {
  const valid: string[] = [];
  const fromFields: ResolvedRecipients["fromFields"] = [];
  const invalid: ResolvedRecipients["invalid"] = [];
  const seen = new Set<string>();
  const consider = (candidate: string, source: string, field?: string) => {
    const id = candidate.trim();
    if (!id || seen.has(id)) return;
    seen.add(id);
    if (LINE_ID.test(id)) {
      valid.push(id);
      if (field !== undefined) fromFields.push({ field, id });
    } else invalid.push({ recipientId: id.slice(0, 80), detail: `not a LINE user, group or room ID (from ${source})` });
  };

  for (const code of rule.recipients.fields) {
    const field = record[code];
    if (!field) {
      invalid.push({ recipientId: `field:${code}`, detail: `the record has no field "${code}"` });
      continue;
    }
    if (!TEXT_TYPES.has(field.type)) {
      invalid.push({ recipientId: `field:${code}`, detail: `field "${code}" is ${field.type}; LINE IDs must be in a text field` });
      continue;
    }
    const text = typeof field.value === "string" ? field.value : "";
    for (const line of text.split(/\r?\n/)) consider(line, `field ${code}`, code);
  }
  for (const id of rule.recipients.ids) consider(id, "the rule's fixed IDs");
  return { valid, fromFields, invalid };
}

/**
 * One request per group or room (push), users together by multicast in chunks of 500
 * (a single user gets a push).
 */
export function planBatches(ids: string[]): Array<{ method: "push" | "multicast"; to: string[] }> {
  const users = ids.filter((id) => id.startsWith("U"));
  const others = ids.filter((id) => !id.startsWith("U"));
  const batches: Array<{ method: "push" | "multicast"; to: string[] }> = [];
  for (let i = 0; i < users.length; i += 500) {
    const chunk = users.slice(i, i + 500);
    batches.push(chunk.length === 1 ? { method: "push", to: chunk } : { method: "multicast", to: chunk });
  }
  for (const id of others) batches.push({ method: "push", to: [id] });
  return batches;
}
