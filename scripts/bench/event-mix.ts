import { createHmac, randomBytes } from "node:crypto";

/** One signed single-event webhook request, as LINE sends it. */
export interface SignedRequest {
  eventId: string;
  body: string;
  signature: string;
}

export interface Tap {
  userId: string;
  data: string;
}

export type EventKind = "postback" | "refused-postback" | "follow" | "message";

/** The realistic mix: taps on real deliveries (first ones write to kintone), refused taps, follows, texts. */
export const REALISTIC_MIX: readonly EventKind[] = ["postback", "postback", "postback", "postback", "refused-postback", "refused-postback", "follow", "follow", "message", "message"];
/** What the drain target counts: events that end without calling kintone. */
export const SIMPLE_MIX: readonly EventKind[] = ["follow", "refused-postback"];

const userOf = (n: number) => "U" + n.toString(16).padStart(32, "0");
const TEXTS = ["こんにちは", "Thanks!", "配送はいつですか？", "When will it arrive?"];

/**
 * Builds signed webhook requests. `replyToken()` hands out reply tokens LINE issued (the emulator
 * accepts a reply only with a token it issued, once); `taps` are postbacks taken from real pushes.
 */
export function createEventMix(options: { channelSecret: string; taps: readonly Tap[]; replyToken: () => string; mix: readonly EventKind[] }) {
  let seq = 0;
  const runId = randomBytes(3).toString("hex").toUpperCase();
  return function next(): SignedRequest & { kind: EventKind } {
    seq++;
    const kind = options.mix[seq % options.mix.length] as EventKind;
    const eventId = `01BENCH${runId}${seq.toString(36).toUpperCase().padStart(13, "0")}`;
    const tap = options.taps[seq % Math.max(1, options.taps.length)];
    // Strangers are users no delivery was sent to: their taps are refused (and answered so).
    const stranger = userOf(1_000_000 + (seq % 5000));
    const base = {
      mode: "active",
      timestamp: Date.now(),
      webhookEventId: eventId,
      deliveryContext: { isRedelivery: false },
      replyToken: options.replyToken(),
    };
    let event: Record<string, unknown>;
    if ((kind === "postback" || kind === "refused-postback") && tap) {
      const userId = kind === "postback" ? tap.userId : stranger;
      event = { type: "postback", ...base, source: { type: "user", userId }, postback: { data: tap.data } };
    } else if (kind === "message") {
      event = {
        type: "message",
        ...base,
        source: { type: "user", userId: stranger },
        message: { type: "text", id: String(600_000_000_000_000_000n + BigInt(seq)), text: TEXTS[seq % TEXTS.length], quoteToken: `q${seq}` },
      };
    } else {
      event = { type: "follow", ...base, source: { type: "user", userId: stranger }, follow: { isUnblocked: false } };
    }
    const body = JSON.stringify({ destination: "U" + "f".repeat(32), events: [event] });
    return { kind, eventId, body, signature: createHmac("sha256", options.channelSecret).update(body).digest("base64") };
  };
}
