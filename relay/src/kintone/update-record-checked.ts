import type { KintoneRecord } from "../../../common/kintone/record.js";
import { KintoneError, type KintoneClient } from "./kintone-client.js";

export type RecordChanges = Record<string, { value: unknown }>;

/**
 * Read, compute the change from what the record holds now, write with that revision. A stale
 * revision (GAIA_CO02: someone saved in between) re-reads and tries again; 429/5xx are thrown
 * to the caller, whose job backs off.
 */
export async function updateRecordChecked(
  kintone: KintoneClient,
  appId: string,
  recordId: string,
  change: (record: KintoneRecord) => RecordChanges | undefined,
  maxConflicts = 5,
): Promise<{ revision: string } | undefined> {
  for (let attempt = 0; ; attempt++) {
    const record = await kintone.getRecord(appId, recordId);
    const changes = change(record);
    if (!changes || Object.keys(changes).length === 0) return undefined;
    const revision = record["$revision"]?.value;
    try {
      return await kintone.updateRecord(appId, recordId, changes, typeof revision === "string" ? revision : undefined);
    } catch (error) {
      if (error instanceof KintoneError && error.isStaleRevision && attempt < maxConflicts) continue;
      throw error;
    }
  }
}
