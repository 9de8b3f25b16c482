import type { KintoneUser } from "./field-values.js";
import type { KintoneStore } from "./kintone-store.js";
import type { KintoneWebhooks } from "./webhooks.js";

/**
 * Builds kintone's webhook bodies from the store, for operations on one record. Bulk APIs and
 * imports never call these: kintone sends no webhook for them (see webhooks.ts).
 */
export class RecordWebhooks {
  constructor(
    private readonly store: KintoneStore,
    private readonly webhooks: KintoneWebhooks,
    /** Where kintone lives, for the permalinks (`https://example.cybozu.com`). */
    private readonly publicUrl: string,
    private readonly now: () => number,
  ) {}

  /** A record added, edited, or moved on by a process action: the record as it is now. */
  record(appId: number, type: "ADD_RECORD" | "UPDATE_RECORD" | "UPDATE_STATUS", recordId: string): void {
    const record = this.store.getRecord(appId, recordId);
    this.webhooks.notify(appId, {
      type,
      app: this.#app(appId),
      record,
      recordTitle: this.store.recordTitle(appId, record),
      url: this.#permalink(appId, recordId),
    });
  }

  comment(appId: number, recordId: string, commentId: string): void {
    const record = this.store.getRecord(appId, recordId);
    const comment = this.store.comments(appId, recordId).find((c) => c.id === commentId);
    if (!comment) return;
    this.webhooks.notify(appId, {
      type: "ADD_RECORD_COMMENT",
      app: this.#app(appId),
      record,
      recordTitle: this.store.recordTitle(appId, record),
      comment,
      url: `${this.#permalink(appId, recordId)}&comment=${commentId}`,
    });
  }

  deleted(appId: number, recordId: string, by: KintoneUser): void {
    this.webhooks.notify(appId, {
      type: "DELETE_RECORD",
      app: this.#app(appId),
      recordId,
      deletedBy: { ...by },
      // The help's example has whole seconds: "2017-07-03T09:38:09Z".
      deletedAt: new Date(this.now()).toISOString().replace(/\.\d+Z$/, "Z"),
    });
  }

  #app(appId: number): { id: string; name: string } {
    return { id: String(appId), name: this.store.appName(appId) };
  }

  #permalink(appId: number, recordId: string): string {
    return `${this.publicUrl.replace(/\/+$/, "")}/k/${appId}/show#record=${recordId}`;
  }
}
