import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postWebhook, webhookBody } from "../helpers/line-webhook.js";
import { startProcessStack, type RelayProcess } from "../helpers/relay-process.js";

/**
 * Hostile load without a secret: 1,000 connections each declare a 1 MB webhook body, send 900 KB
 * of it and stop. The relay (its own process, as in production) must keep its memory bounded,
 * still answer LINE's small signed webhooks at once, and close the stalled connections itself.
 */
const CONNECTIONS = 1_000;
const BATCH = 100;
const DECLARED = 1024 * 1024;
const SENT = 900 * 1024;

let stack: Awaited<ReturnType<typeof startProcessStack>>;
let relay: RelayProcess;
beforeAll(async () => {
  stack = await startProcessStack();
  relay = await stack.start();
}, 30_000);
afterAll(async () => {
  await stack?.close();
});

/** VmRSS of the relay process, in MB (Linux: /proc/<pid>/status). */
function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match?.[1]) throw new Error("no VmRSS in /proc status");
  return Number(match[1]) / 1024;
}

describe("1,000 slow 900 KB webhook bodies", () => {
  it("RSS stays under 300 MB, a signed webhook gets 200 within 1 s meanwhile, and the relay closes the slow connections within 10 s", async () => {
    const pid = relay.child.pid as number;
    const { hostname, port } = new URL(relay.url);
    const chunk = Buffer.alloc(SENT, 0x20); // one buffer shared by every socket: the test itself stays small
    const head = Buffer.from(
      `POST /line/webhook HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
        `x-line-signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nContent-Length: ${DECLARED}\r\n\r\n`,
    );
    // One webhook first, so the time measured below is the relay's under load, not a first call's warm-up.
    expect((await postWebhook(relay.url, webhookBody([]), stack.channelSecret)).status).toBe(200);
    const rssBefore = rssMb(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMb(pid));
    }, 50);

    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    try {
      for (let start = 0; start < CONNECTIONS; start += BATCH) {
        await Promise.all(
          Array.from({ length: Math.min(BATCH, CONNECTIONS - start) }, () =>
            new Promise<void>((resolve) => {
              const socket = connect({ host: "127.0.0.1", port: Number(port) }, () => {
                socket.write(head);
                // Resolved once the 900 KB are handed to the kernel: from then on the body just stalls.
                socket.write(chunk, () => resolve());
              });
              socket.on("error", () => resolve()); // reset by the relay: expected for refused bodies
              socket.on("close", () => {
                closedAt.push(Date.now());
                resolve();
              });
              socket.resume(); // take whatever the relay answers
              sockets.push(socket);
            }),
          ),
        );
      }
      const floodSent = Date.now();

      const rssAfterFlood = rssMb(pid);
      // LINE's own webhook, signed, while the flood is in flight.
      const started = Date.now();
      const response = await postWebhook(relay.url, webhookBody([]), stack.channelSecret);
      const tookMs = Date.now() - started;
      console.log(`flood sent: relay RSS ${rssAfterFlood.toFixed(0)} MB, ${closedAt.length} of ${sockets.length} closed so far; signed webhook took ${tookMs} ms`);
      expect(response.status).toBe(200);
      expect(tookMs).toBeLessThan(1_000);

      // The relay closes every slow connection itself (408 after the body stalls, or 503 at once).
      const deadline = floodSent + 10_000;
      while (closedAt.length < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState !== "closed").length;
      expect(closedAt.length, `${stillOpen} connections still open 10 s after the flood`).toBe(sockets.length);
      expect(rssPeak).toBeLessThan(300);

      await new Promise((r) => setTimeout(r, 1_000));
      console.log(
        `relay RSS: ${rssBefore.toFixed(0)} MB before, peak ${rssPeak.toFixed(0)} MB, ${rssMb(pid).toFixed(0)} MB 1 s after; ` +
          `signed webhook answered in ${tookMs} ms; last slow connection closed ${Math.max(...closedAt) - floodSent} ms after the flood`,
      );
    } finally {
      clearInterval(sampler);
      for (const socket of sockets) socket.destroy();
    }
  }, 40_000);
});
