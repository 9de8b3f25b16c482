import { randomUUID } from "node:crypto";
import type { KintoneRecord } from "../../common/kintone/record.js";
import type { KintoneUser } from "./field-values.js";
import type { RecordComment } from "./kintone-store.js";

/**
 * kintone's webhooks, as the help describes them
 * (https://help.cybozu.com/ja/k/user/webhook.html, "Webhookを設定する", and
 * https://jp.cybozu.help/k/en/user/app_settings/set_webhook/webhook_notification.html, "Content of
 * Webhook Notifications Triggered by Actions on kintone"):
 * - sent for records added, edited or deleted one at a time, comments posted and status changes;
 *   NOT for Excel/CSV imports, bulk deletion, or the REST APIs that work on several records at once;
 * - a JSON POST, not signed;
 * - "Webhookの通知は、1分間に60回まで送信されます。1分間に60回を超えてレコードを操作すると、61回目以降の
 *   操作ではWebhookの通知が送信されません。": the 61st and later within a minute are dropped, not
 *   queued. The help does not say per app or per domain; two integrators' pages say per domain
 *   (kViewer guide, "ドメイン単位で分間60回"), which is the stricter reading, so the emulator counts
 *   every notification it sends, across all apps.
 */

export type WebhookEventType = "ADD_RECORD" | "UPDATE_RECORD" | "DELETE_RECORD" | "ADD_RECORD_COMMENT" | "UPDATE_STATUS";

export interface WebhookRegistration {
  url: string;
  events: WebhookEventType[];
}

/** Added / edited / status changed: the help's first table. UPDATE_STATUS carries nothing more. */
export interface RecordWebhookBody {
  id: string;
  type: "ADD_RECORD" | "UPDATE_RECORD" | "UPDATE_STATUS";
  app: { id: string; name: string };
  /** As Get Record returns it, with $id and $revision. */
  record: KintoneRecord;
  recordTitle: string;
  /** The record's permalink: {base}/k/{app}/show#record={id}. */
  url: string;
}

/** Deleted: the help's second table. */
export interface DeleteWebhookBody {
  id: string;
  type: "DELETE_RECORD";
  app: { id: string; name: string };
  recordId: string;
  deletedBy: KintoneUser;
  deletedAt: string;
}

/**
 * Comment posted. The help's table for it was not available to check: the shape follows the
 * record table plus the comment as Get Comments returns it, and the comment's permalink (UNCONFIRMED).
 */
export interface CommentWebhookBody {
  id: string;
  type: "ADD_RECORD_COMMENT";
  app: { id: string; name: string };
  record: KintoneRecord;
  recordTitle: string;
  comment: RecordComment;
  url: string;
}

export type WebhookBody = RecordWebhookBody | DeleteWebhookBody | CommentWebhookBody;
/** What the caller supplies; the notification id is added per send. */
export type WebhookEvent =
  | Omit<RecordWebhookBody, "id">
  | Omit<DeleteWebhookBody, "id">
  | Omit<CommentWebhookBody, "id">;

export interface WebhookDelivery {
  url: string;
  body: WebhookBody;
  /** The receiver's HTTP status; undefined while in flight or when the POST failed. */
  status?: number;
  error?: string;
  at: number;
}

export interface DroppedWebhook {
  url: string;
  type: WebhookEventType;
  appId: number;
  at: number;
}

export const WEBHOOK_LIMIT_PER_MINUTE = 60;
const MINUTE_MS = 60_000;

export class KintoneWebhooks {
  readonly #registrations = new Map<number, WebhookRegistration[]>();
  readonly #sentAt: number[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  /** Every notification sent, oldest first. */
  readonly deliveries: WebhookDelivery[] = [];
  /** Notifications over the per-minute limit, which kintone does not send. */
  readonly dropped: DroppedWebhook[] = [];

  constructor(
    private readonly now: () => number,
    private readonly send: typeof fetch = fetch,
  ) {}

  register(appId: number, registration: WebhookRegistration): void {
    const url = new URL(registration.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`Webhook URL must be http(s): ${registration.url}`);
    if (registration.events.length === 0) throw new Error("A webhook needs at least one event");
    const list = this.#registrations.get(appId) ?? [];
    list.push({ url: url.href, events: [...registration.events] });
    this.#registrations.set(appId, list);
  }

  /**
   * Called after an operation on one record has committed. Sends in the background: the REST
   * answer never waits for the receiver.
   */
  notify(appId: number, event: WebhookEvent): void {
    for (const registration of this.#registrations.get(appId) ?? []) {
      if (!registration.events.includes(event.type)) continue;
      const at = this.now();
      while (this.#sentAt.length > 0 && (this.#sentAt[0] ?? 0) <= at - MINUTE_MS) this.#sentAt.shift();
      if (this.#sentAt.length >= WEBHOOK_LIMIT_PER_MINUTE) {
        this.dropped.push({ url: registration.url, type: event.type, appId, at });
        continue;
      }
      this.#sentAt.push(at);
      const body = { id: randomUUID(), ...structuredClone(event) } as WebhookBody;
      const delivery: WebhookDelivery = { url: registration.url, body, at };
      this.deliveries.push(delivery);
      const sending = this.#post(delivery).finally(() => this.#inFlight.delete(sending));
      this.#inFlight.add(sending);
    }
  }

  /** Resolves when every notification sent so far has been answered (or failed). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  async #post(delivery: WebhookDelivery): Promise<void> {
    // Start on a later turn of the event loop, after the REST answer is on its way.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const response = await this.send(delivery.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(delivery.body),
        // The emulator's own bound; kintone's timeout is not published.
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      delivery.status = response.status;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
  }
}
