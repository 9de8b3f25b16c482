import type { LineEmulator } from "../../emulators/line/line-emulator.js";
import { postbackEvent, signBody, webhookBody } from "../../test/helpers/line-webhook.js";
import { receivedPushes } from "./delivered-pushes.js";
import { type Random, sleep } from "./random.js";

/** A user who tapped "Got it" on the message of one order: one acknowledgement is owed, however many taps. */
export interface SoakTap {
  orderNo: string;
  userId: string;
  /** Each tap is its own webhook event (a second tap on the same button is a new event). */
  events: WebhookEvent[];
}

interface WebhookEvent {
  body: ReturnType<typeof postbackEvent>;
  answered: boolean;
  dueAt: number;
  sends: number;
}

const MAX_EVENTS_PER_BODY = 3;
const PARALLEL_BODIES = 4;

/**
 * The LINE side of the taps: watches what LINE delivered, lets most recipients tap the button (some
 * twice), signs and posts the webhook bodies as LINE does, and redelivers every event that got no
 * 2xx (connection refused while the relay restarts, reset by a kill, 5xx) with
 * `deliveryContext.isRedelivery: true` and the same webhookEventId, until it is answered.
 */
export function createTapDriver(deps: {
  line: LineEmulator;
  channelSecret: string;
  relayUrl: () => string | null;
  random: Random;
  tapShare: number;
}) {
  const { line, random } = deps;
  const taps = new Map<string, SoakTap>();
  const events: WebhookEvent[] = [];
  let seen = 0;
  let tapping = true;
  let running = true;
  let bodiesSent = 0;
  let redeliveries = 0;

  function scheduleTap(tap: SoakTap, postbackData: string, delayMs: number) {
    const event: WebhookEvent = {
      body: postbackEvent(postbackData, {
        userId: tap.userId,
        replyToken: line.issueReplyToken({ userId: tap.userId }),
      }),
      answered: false,
      dueAt: Date.now() + delayMs,
      sends: 0,
    };
    tap.events.push(event);
    events.push(event);
  }

  function watchDeliveries() {
    const fresh = receivedPushes(line.delivered, seen);
    seen = line.delivered.length;
    if (!tapping) return;
    for (const push of fresh) {
      const key = `${push.orderNo}|${push.userId}`;
      if (taps.has(key) || !push.postbackData || !random.chance(deps.tapShare)) continue;
      const tap: SoakTap = { orderNo: push.orderNo, userId: push.userId, events: [] };
      taps.set(key, tap);
      scheduleTap(tap, push.postbackData, random.int(100, 3_000));
      if (random.chance(0.15)) scheduleTap(tap, push.postbackData, random.int(500, 5_000));
    }
  }

  async function send(batch: WebhookEvent[]): Promise<void> {
    const url = deps.relayUrl();
    const now = Date.now();
    const bodies = batch.map((event) => {
      const isRedelivery = event.sends > 0;
      if (isRedelivery) redeliveries += 1;
      event.sends += 1;
      // The event's timestamp stays the tap's moment; only the delivery context says it is a resend.
      return { ...event.body, deliveryContext: { isRedelivery } };
    });
    let ok = false;
    if (url) {
      const raw = webhookBody(bodies);
      bodiesSent += 1;
      try {
        const response = await fetch(`${url}/line/webhook`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-line-signature": signBody(raw, deps.channelSecret) },
          body: raw,
          // LINE counts an answer later than 2 s as a failure and redelivers; give a loaded machine more.
          signal: AbortSignal.timeout(10_000),
        });
        await response.body?.cancel();
        ok = response.status >= 200 && response.status < 300;
      } catch {
        ok = false;
      }
    }
    for (const event of batch) {
      if (ok) event.answered = true;
      else event.dueAt = now + random.int(1_000, 3_000);
    }
  }

  const loop = (async () => {
    const inFlight = new Set<Promise<void>>();
    const taken = new Set<WebhookEvent>();
    while (running) {
      watchDeliveries();
      const now = Date.now();
      const due = events.filter((event) => !event.answered && !taken.has(event) && event.dueAt <= now);
      while (due.length > 0 && inFlight.size < PARALLEL_BODIES) {
        const batch = due.splice(0, random.int(1, MAX_EVENTS_PER_BODY));
        for (const event of batch) taken.add(event);
        const sending: Promise<void> = send(batch).finally(() => {
          for (const event of batch) taken.delete(event);
          inFlight.delete(sending);
        });
        inFlight.add(sending);
      }
      await sleep(100);
    }
    await Promise.all([...inFlight]);
  })();

  return {
    taps,
    /** No new taps from now on (events already tapped are still redelivered until answered). */
    stopTapping(): void {
      if (!tapping) return;
      watchDeliveries();
      tapping = false;
    },
    get tapping(): boolean {
      return tapping;
    },
    unanswered: () => events.filter((event) => !event.answered).length,
    stats: () => ({ events: events.length, bodiesSent, redeliveries }),
    async stop(): Promise<void> {
      running = false;
      await loop;
    },
  };
}
