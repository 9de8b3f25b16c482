import autocannon from "autocannon";
import { Agent, request } from "node:http";
import type { SignedRequest } from "./event-mix.js";

export interface LoadResult {
  rps: number;
  answered: number;
  errors: number;
}

/** Closed loop: `connections` keep-alive connections, each sending its next request as soon as the last was answered. */
export async function closedLoop(url: string, options: { connections: number; seconds?: number; amount?: number; next: () => SignedRequest; onAnswered?: (eventId: string) => void }): Promise<LoadResult> {
  let answered = 0;
  const result = await autocannon({
    url: `${url}/line/webhook`,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 1 }),
    requests: [
      {
        method: "POST",
        // One request in flight per connection: the context holds the event of that request.
        setupRequest: (req, context) => {
          const { eventId, body, signature } = options.next();
          (context as { eventId?: string }).eventId = eventId;
          return { ...req, body, headers: { "content-type": "application/json", "x-line-signature": signature } };
        },
        onResponse: (status, _body, context) => {
          const { eventId } = context as { eventId?: string };
          if (status === 200 && eventId) {
            answered++;
            options.onAnswered?.(eventId);
          }
        },
      },
    ],
  });
  return { rps: result.requests.average, answered, errors: result.errors + result.non2xx + result.timeouts };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/**
 * Open loop at a fixed rate: one request every 1000/rate ms over 10 keep-alive connections,
 * whatever the answers do. Latency runs from the moment a request is due until its answer is
 * read, so requests waiting for a free connection count as waiting. (autocannon's overallRate
 * sends each second's quota in a burst, which measures a burst, not a rate.)
 */
export async function pacedLoad(url: string, options: { rate: number; seconds: number; next: () => SignedRequest; onAnswered?: (eventId: string) => void }) {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const latencies: number[] = [];
  let issued = 0;
  let finished = 0;
  let errors = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const done = () => {
      if (++finished === total) resolve();
    };
    const issue = (dueAt: number) => {
      const { eventId, body, signature } = options.next();
      const req = request(
        { agent, hostname, port, path: "/line/webhook", method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-line-signature": signature } },
        (res) => {
          res.resume();
          res.once("end", () => {
            latencies.push(performance.now() - dueAt);
            if (res.statusCode === 200) options.onAnswered?.(eventId);
            else errors++;
            done();
          });
        },
      );
      req.once("error", () => {
        errors++;
        done();
      });
      req.end(body);
    };
    // Timers fire about every millisecond, sometimes later: each tick issues every request due by now.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000) + 1);
      while (issued < due) {
        issue(start + (issued * 1000) / options.rate);
        issued++;
      }
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  latencies.sort((x, y) => x - y);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? NaN, errors };
}

/** Sequential probes, `gapMs` apart: the latency of each answer. */
export async function probe(count: number, gapMs: number, send: () => Promise<Response>) {
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const began = performance.now();
    const response = await send().catch(() => undefined);
    latencies.push(performance.now() - began);
    if (!response || response.status !== 200) errors++;
    await response?.arrayBuffer().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  latencies.sort((x, y) => x - y);
  return { p50: quantile(latencies, 0.5), max: latencies.at(-1) ?? NaN, errors };
}
