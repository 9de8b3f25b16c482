import type { FieldProperties, KintoneRecord } from "../../../common/kintone/record.js";

/** What the relay needs from kintone. The real client talks REST; tests point it at the emulator. */
export interface KintoneClient {
  getRecord(appId: string, recordId: string): Promise<KintoneRecord>;
  getFormFields(appId: string): Promise<FieldProperties>;
  updateRecord(
    appId: string,
    recordId: string,
    record: Record<string, { value: unknown }>,
    revision?: string,
  ): Promise<{ revision: string }>;
  addComment(appId: string, recordId: string, text: string): Promise<{ id: string }>;
  /**
   * The comments posted at or after `since` (epoch ms), newest first: to check whether an
   * interrupted run already posted one. `createdAt` is epoch ms (kintone gives seconds precision).
   */
  getCommentsSince(appId: string, recordId: string, since: number): Promise<Array<{ id: string; text: string; createdAt: number }>>;
}

/**
 * A kintone call that failed. `retryable` (transient) is true for 429 (kintone's concurrency and
 * rate limits), 5xx (503 while kintone is under maintenance) and network failures: the caller
 * backs off and tries again, however long kintone is away. Any other 4xx is permanent: its `code`
 * (GAIA_CO02, GAIA_RE01, ...) will not change by asking again.
 */
export class KintoneError extends Error {
  override readonly name = "KintoneError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    /** From the answer's Retry-After header, when kintone sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500;
  }

  get isStaleRevision(): boolean {
    return this.code === "GAIA_CO02";
  }

  get isMissingRecord(): boolean {
    return this.code === "GAIA_RE01" || this.status === 404;
  }
}
