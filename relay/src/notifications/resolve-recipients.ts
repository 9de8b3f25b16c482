import type { KintoneRecord } from "../../../common/kintone/record.js";
import type { Rule } from "../../../common/rules/rule-set.js";
import type { UserLink } from "../links/user-links.js";

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

/** How a kintone user who cannot be reached is listed among a notification's recipients. */
export const kintoneRecipientId = (code: string) => `kintone:${code}`;

/**
 * The kintone users a rule reaches, de-duplicated in order: the record's assignees (its
 * STATUS_ASSIGNEE, read after the change) when `recipients.assignees`, then `recipients.users`.
 */
export function kintoneUsersOf(rule: Rule, record: KintoneRecord): string[] {
  const codes: string[] = [];
  if (rule.recipients.assignees === true) {
    const field = Object.values(record).find((candidate) => candidate.type === "STATUS_ASSIGNEE");
    const assignees = Array.isArray(field?.value) ? (field.value as unknown[]) : [];
    for (const assignee of assignees) {
      const code = (assignee as { code?: unknown } | null)?.code;
      if (typeof code === "string" && code !== "") codes.push(code);
    }
  }
  codes.push(...(rule.recipients.users ?? []));
  return [...new Set(codes)];
}

export interface ReachedKintoneUsers {
  /** The LINE user each linked kintone user is reached on. */
  reached: Array<{ kintoneUserCode: string; lineUserId: string }>;
  /** Recorded as `not_linked`: never linked, or linked but kintone refused their token since. */
  notLinked: Array<{ recipientId: string; detail: string }>;
}

/** Each kintone user through their link: active links are reached, the others listed as not linked. */
export function reachKintoneUsers(codes: readonly string[], links: readonly UserLink[]): ReachedKintoneUsers {
  const byCode = new Map(links.map((link) => [link.kintoneUserCode, link]));
  const reached: ReachedKintoneUsers["reached"] = [];
  const notLinked: ReachedKintoneUsers["notLinked"] = [];
  for (const code of codes) {
    const link = byCode.get(code);
    if (!link) {
      notLinked.push({ recipientId: kintoneRecipientId(code), detail: `kintone user "${code}" has not connected a LINE account` });
    } else if (link.state !== "active") {
      notLinked.push({
        recipientId: kintoneRecipientId(code),
        detail: `kintone user "${code}" must connect again: kintone refused their token (they send "connect" to the LINE account)`,
      });
    } else {
      reached.push({ kintoneUserCode: code, lineUserId: link.lineUserId });
    }
  }
  return { reached, notLinked };
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
