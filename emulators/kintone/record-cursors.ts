import { randomUUID } from "node:crypto";
import type { KintoneRecord } from "../../common/kintone/record.js";
import { KintoneApiError, invalidInput } from "./errors.js";

/**
 * kintone's record cursors (https://cybozu.dev/ja/kintone/docs/rest-api/records/add-cursor/,
 * get-cursor/, delete-cursor/): POST takes `app`, `fields`, `query` (no limit or offset) and `size`
 * (1..500, default 100) and answers `{id, totalCount}`; GET `?id=` answers the next `size` records
 * and `next`, and the cursor is gone once `next` is false; DELETE `{id}` drops it. A cursor lives
 * 10 minutes after its last use; at most 10 exist per domain.
 * Codes and texts of the refusals: UNCONFIRMED (cybozu.dev lists none); kintone-shaped.
 */
export const MAX_CURSORS = 10;
export const CURSOR_LIFETIME_MS = 10 * 60_000;
export const MAX_CURSOR_SIZE = 500;

interface Cursor {
  appId: number;
  records: KintoneRecord[];
  size: number;
  usedAt: number;
}

export const cursorNotFound = () =>
  new KintoneApiError(404, "GAIA_CU01", { en: "The specified cursor does not exist.", ja: "指定したカーソルが存在しません。" });
export const tooManyCursors = () =>
  new KintoneApiError(400, "GAIA_CO03", {
    en: `You cannot create more than ${MAX_CURSORS} cursors at a time.`,
    ja: `同時に作成できるカーソルは${MAX_CURSORS}個までです。`,
  });

export class RecordCursors {
  readonly #cursors = new Map<string, Cursor>();

  constructor(private readonly now: () => number) {}

  create(appId: number, records: KintoneRecord[], size: number | undefined): { id: string; totalCount: string } {
    this.#expire();
    const pageSize = size ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_CURSOR_SIZE) {
      throw invalidInput({ size: { messages: [`must be between 1 and ${MAX_CURSOR_SIZE}`] } });
    }
    if (this.#cursors.size >= MAX_CURSORS) throw tooManyCursors();
    const id = randomUUID();
    this.#cursors.set(id, { appId, records, size: pageSize, usedAt: this.now() });
    return { id, totalCount: String(records.length) };
  }

  /** The app a cursor reads (its GET and DELETE name no app). */
  appOf(id: string): number {
    this.#expire();
    const cursor = this.#cursors.get(id);
    if (!cursor) throw cursorNotFound();
    return cursor.appId;
  }

  next(id: string): { records: KintoneRecord[]; next: boolean } {
    const cursor = this.#cursors.get(id);
    if (!cursor) throw cursorNotFound();
    const records = cursor.records.splice(0, cursor.size);
    cursor.usedAt = this.now();
    const next = cursor.records.length > 0;
    if (!next) this.#cursors.delete(id);
    return { records, next };
  }

  delete(id: string): void {
    if (!this.#cursors.delete(id)) throw cursorNotFound();
  }

  get open(): number {
    this.#expire();
    return this.#cursors.size;
  }

  #expire(): void {
    const now = this.now();
    for (const [id, cursor] of this.#cursors) if (now - cursor.usedAt > CURSOR_LIFETIME_MS) this.#cursors.delete(id);
  }
}
