import { Pool } from "undici";
import type { SignedRequest } from "./event-mix.js";

export interface RoundRobinResult {
  /** Requests answered 200 per second. */
  rps: number;
  p50: number;
  p99: number;
  answered: number;
  /** Non-200 answers and failed requests. */
  errors: number;
  /** Requests answered 200 by each target, in the order of `urls`. */
  perTarget: number[];
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/**
 * Closed loop over several relays, as a load balancer in front of them spreads LINE's requests:
 * `connections` requests in flight, each one's successor sent as soon as it is answered, and every
 * request going to the next target in turn (round robin per request, not per connection). Latency
 * is from sending a request until its answer is read. Keep-alive connections, one pool per target.
 */
export async function roundRobinClosedLoop(
  urls: readonly string[],
  options: { connections: number; seconds: number; next: () => SignedRequest },
): Promise<RoundRobinResult> {
  const pools = urls.map((url) => new Pool(url, { connections: options.connections, pipelining: 1 }));
  const perTarget = urls.map(() => 0);
  const latencies: number[] = [];
  let turn = 0;
  let errors = 0;
  const began = performance.now();
  const until = began + options.seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const target = turn++ % pools.length;
      const { body, signature } = options.next();
      const sent = performance.now();
      try {
        const response = await (pools[target] as Pool).request({
          path: "/line/webhook",
          method: "POST",
          headers: { "content-type": "application/json", "x-line-signature": signature },
          body,
        });
        await response.body.dump();
        if (response.statusCode === 200) {
          latencies.push(performance.now() - sent);
          perTarget[target] = (perTarget[target] ?? 0) + 1;
        } else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  const seconds = (performance.now() - began) / 1000;
  await Promise.all(pools.map((pool) => pool.close()));
  latencies.sort((x, y) => x - y);
  return { rps: latencies.length / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), answered: latencies.length, errors, perTarget };
}
