import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";

// `npm run bench:claim`: how long one job claim takes with 10 and with 100,000 jobs queued. A
// claim is an index seek, so both should be about the same. Printed, not asserted.
const rounds = 200;
for (const queued of [10, 100_000]) {
  const dir = mkdtempSync(join(tmpdir(), "bench-claim-"));
  const store = openSqliteStore(dir, { synchronous: "NORMAL" });
  const insert = store.db.prepare(
    `INSERT INTO jobs (id, kind, ref_id, state, attempts, run_at, order_key, order_seq, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
  );
  store.db.transaction(() => {
    for (let i = 0; i < queued; i++) {
      const kind = i % 3 === 0 ? "webhook-event" : "delivery";
      insert.run(`j${i}`, kind, `r${i}`, i, kind === "webhook-event" ? `U${i % 500}` : null, i, i);
    }
  })();
  const now = queued + 1;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await store.claimJob(now, 60_000, i % 2 === 0 ? ["webhook-event"] : ["delivery", "notification"]);
  const perClaimUs = Number(process.hrtime.bigint() - started) / 1000 / rounds;
  console.log(`${queued.toLocaleString("en")} jobs queued: ${perClaimUs.toFixed(1)} µs per claim (${rounds} claims)`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
