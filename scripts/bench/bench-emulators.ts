import { Hono } from "hono";
import { DEMO_API_TOKEN, DEMO_APP_ID, DEMO_FIELDS, DEMO_PROCESS } from "../../emulators/demo-app.js";
import { createKintoneEmulator } from "../../emulators/kintone/kintone-emulator.js";
import { createLineEmulator } from "../../emulators/line/line-emulator.js";
import { listen } from "../../emulators/listen.js";

/**
 * The LINE and kintone emulators behind the benchmarked relay, in their own process (their
 * request handling must not stall the load generator's event loop), plus a control port for the
 * benchmark: records to notify, the postback data LINE received in pushes, the pushes themselves
 * (recipients, retry key), reply tokens as LINE puts them in webhook events, and counts. Prints
 * one JSON line with the three URLs.
 */
const channelSecret = process.env.BENCH_CHANNEL_SECRET ?? "";
const accessToken = process.env.BENCH_LINE_TOKEN ?? "";

const line = createLineEmulator({ channels: [{ channelId: "1234567890", channelSecret }], longLivedTokens: [accessToken] });
const kintone = createKintoneEmulator();
kintone.addApp({ id: DEMO_APP_ID, name: "Orders", fields: DEMO_FIELDS, process: DEMO_PROCESS, apiTokens: [{ token: DEMO_API_TOKEN }] });

const control = new Hono()
  // Orders approved in kintone, one LINE user each: the relay confirms the status and pushes.
  .post("/records", async (c) => {
    const { userIds } = (await c.req.json()) as { userIds: string[] };
    const records = userIds.map((userId, i) => {
      const { id } = kintone.addRecord(DEMO_APP_ID, { order_no: `B-${i}`, customer: `Customer ${i}`, amount: "1200", line_user_id: userId });
      kintone.runAction(DEMO_APP_ID, id, "Approve");
      return { recordId: id, userId };
    });
    return c.json(records);
  })
  // The postback data of every push LINE accepted, with its recipient.
  .get("/postbacks", (c) => {
    const taps: Array<{ userId: string; data: string }> = [];
    for (const delivery of line.delivered) {
      if (delivery.kind === "reply") continue;
      for (const match of JSON.stringify(delivery.messages).matchAll(/"data":"([^"]+)"/g)) {
        for (const userId of delivery.to) taps.push({ userId, data: match[1] as string });
      }
    }
    return c.json(taps);
  })
  .post("/reply-tokens", (c) => c.json(Array.from({ length: Number(c.req.query("count") ?? 0) }, () => line.issueReplyToken())))
  // Pushes and multicasts LINE accepted from index `from` of its deliveries on (replies skipped):
  // recipients and retry key each, so a caller can check each recipient got exactly one.
  .get("/pushes", (c) => {
    const from = Number(c.req.query("from") ?? 0);
    const pushes = line.delivered
      .slice(from)
      .filter((delivery) => delivery.kind !== "reply")
      .map((delivery) => ({ to: delivery.to, retryKey: delivery.retryKey ?? null, at: delivery.at }));
    return c.json({ next: line.delivered.length, pushes });
  })
  .get("/stats", (c) => c.json({ replies: line.delivered.filter((d) => d.kind === "reply").length, pushes: line.delivered.filter((d) => d.kind !== "reply").length }))
  // The emulators record every request for tests; over a benchmark that is only memory.
  .post("/forget-requests", (c) => {
    line.requests.length = 0;
    (kintone.requests as unknown[]).length = 0;
    return c.json({});
  });

const [lineServer, kintoneServer, controlServer] = await Promise.all([listen(line.app), listen(kintone.app), listen(control)]);
console.log(JSON.stringify({ line: lineServer.url, kintone: kintoneServer.url, control: controlServer.url }));
process.on("SIGTERM", () => process.exit(0));
