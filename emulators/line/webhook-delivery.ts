import { createHmac, randomBytes } from "node:crypto";

/**
 * What the LINE Platform does when it has events for a bot: wrap them in `{destination, events}`,
 * sign the exact bytes with the channel secret and POST them to the channel's webhook URL.
 * https://developers.line.biz/en/reference/messaging-api/#request-body and
 * #signature-validation: x-line-signature is base64(HMAC-SHA256(channel secret, raw body)).
 * Every attempt is recorded (what was sent, what the receiver answered) so tests can assert on it.
 */

/** A webhook event as it goes on the wire; the emulator's own events are typed where they are built. */
export type WebhookEventPayload = Record<string, unknown>;

export interface WebhookBody {
  /** The bot's user ID. */
  destination: string;
  events: WebhookEventPayload[];
}

export interface WebhookTarget {
  url: string;
  /** Signs the body; default: the emulator's first channel's secret. */
  channelSecret?: string;
}

export interface SentWebhook {
  url: string;
  /** The exact bytes sent (what the signature covers). */
  rawBody: string;
  body: WebhookBody;
  signature: string;
  /** What the receiver answered; 0: no answer within the timeout, or the connection failed. */
  status: number;
  /** Why there is no status, when there is none. */
  error?: string;
  /** ms by the emulator clock. */
  at: number;
  /** Wall-clock ms the receiver took (or until the attempt was given up). */
  durationMs: number;
}

export interface WebhookDeliveryOptions {
  now: () => number;
  destination: string;
  defaultChannelSecret: () => string;
  /**
   * How long one POST may take. LINE's statistics count a request_timeout after 2 seconds
   * (https://developers.line.biz/en/docs/messaging-api/check-webhook-error-statistics/); the
   * emulator waits longer by default because tests share a slow machine, and records how long it took.
   */
  timeoutMs: number;
}

/** x-line-signature: base64(HMAC-SHA256(channel secret, raw body)). */
export function signWebhookBody(rawBody: string, channelSecret: string): string {
  return createHmac("sha256", channelSecret).update(rawBody).digest("base64");
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A ULID (48-bit time + 80 random bits, Crockford base32, 26 characters): LINE documents
 * webhookEventId as "a string in ULID format"
 * (https://developers.line.biz/en/reference/messaging-api/#common-properties).
 */
export function newWebhookEventId(now: number): string {
  let time = "";
  let rest = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[rest % 32]! + time;
    rest = Math.floor(rest / 32);
  }
  // 256 is a multiple of 32, so byte % 32 is uniform.
  const random = [...randomBytes(16)].map((byte) => CROCKFORD[byte % 32]!).join("");
  return time + random;
}

export class WebhookDelivery {
  readonly sent: SentWebhook[] = [];
  private target: WebhookTarget | undefined;

  constructor(private readonly options: WebhookDeliveryOptions) {}

  setTarget(target: WebhookTarget | undefined): void {
    this.target = target ? { ...target } : undefined;
  }

  get configured(): boolean {
    return this.target !== undefined;
  }

  /**
   * Signs and POSTs the events to the webhook URL, waiting at most timeoutMs. Without a webhook URL
   * LINE sends nothing (the console's "Use webhook" is off): undefined, nothing recorded.
   */
  async send(events: WebhookEventPayload[]): Promise<SentWebhook | undefined> {
    const target = this.target;
    if (!target) return undefined;
    const body: WebhookBody = { destination: this.options.destination, events };
    const rawBody = JSON.stringify(body);
    const signature = signWebhookBody(rawBody, target.channelSecret ?? this.options.defaultChannelSecret());
    const record: SentWebhook = { url: target.url, rawBody, body, signature, status: 0, at: this.options.now(), durationMs: 0 };
    this.sent.push(record);
    const started = Date.now();
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", "x-line-signature": signature },
        body: rawBody,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      record.status = response.status;
      await response.body?.cancel();
    } catch (error) {
      record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    record.durationMs = Date.now() - started;
    return record;
  }

  clear(): void {
    this.sent.length = 0;
  }
}
