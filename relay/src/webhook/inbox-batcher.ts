import type { InboundEvent, RelayStore } from "../store/relay-store.js";

interface Waiting {
  events: InboundEvent[];
  resolve: (stored: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Pipelined group commit for the webhook inbox. Up to `maxInFlight` batches are handed to the
 * store at once (default 2: one committing, the next already waiting, so the SQLite writer thread
 * goes from one commit to the next without waiting for this thread); requests arriving meanwhile
 * are collected and handed over as one batch when a commit ends. The event loop keeps reading
 * requests while commits run. Each request is answered only after the commit holding ITS events
 * is durable, so durability is the same as one commit per request, at a fraction of the fsyncs.
 * A failed commit rejects exactly the requests of that batch (nothing of it is stored).
 */
export function createInboxBatcher(store: RelayStore, now: () => number, options: { maxInFlight?: number } = {}) {
  const maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  let queue: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  const commit = async (batch: Waiting[]) => {
    inFlight++;
    try {
      const events = batch.length === 1 ? (batch[0] as Waiting).events : batch.flatMap((item) => item.events);
      const { stored } = await store.storeWebhookEvents(events, now());
      for (const item of batch) item.resolve(stored);
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      inFlight--;
      pump();
    }
  };

  const pump = () => {
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue;
      queue = [];
      void commit(batch);
    }
  };

  return {
    /** Resolves once the events are committed, with how many new events that commit stored. */
    add(events: InboundEvent[]): Promise<number> {
      return new Promise((resolve, reject) => {
        queue.push({ events, resolve, reject });
        // Idle: commit after this turn of the event loop, so requests read together share it.
        // Busy: the commit in flight hands the queue over when it ends.
        if (!scheduled && inFlight < maxInFlight) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
  };
}
