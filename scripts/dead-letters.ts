import { existsSync } from "node:fs";
import { join } from "node:path";
import { describeDeadLetter } from "../relay/src/dead-letters/dead-letters-route.js";
import { openSqliteStore } from "../relay/src/store/sqlite-store.js";

// `npm run dead-letters -- list` | `npm run dead-letters -- retry <id>`: the dead letters of the
// relay's store in RELAY_DATA_DIR (environment or .env), as GET /v1/dead-letters and
// POST /v1/dead-letters/{id}/retry do. Safe while the relay runs: it picks a retried job up
// within a second.
try {
  process.loadEnvFile(".env");
} catch {
  // no .env
}
const [command, id] = process.argv.slice(2);
const usage = "usage: npm run dead-letters -- list | retry <id>\n使い方: npm run dead-letters -- list | retry <id>";
if (command !== "list" && !(command === "retry" && id)) {
  console.error(usage);
  process.exit(2);
}
const dataDir = process.env.RELAY_DATA_DIR?.trim() || "./data";
// Never create a store here: a mistyped RELAY_DATA_DIR would look like an empty queue.
if (!existsSync(join(dataDir, "relay.sqlite"))) {
  console.error(
    `no relay database at ${join(dataDir, "relay.sqlite")} (set RELAY_DATA_DIR to the relay's data dir)\n` +
      `${join(dataDir, "relay.sqlite")} に中継サーバーのデータベースがありません（RELAY_DATA_DIR に中継サーバーのデータフォルダーを指定してください）`,
  );
  process.exit(1);
}
const store = openSqliteStore(dataDir);
try {
  if (command === "list") {
    const letters = await store.listDeadLetters();
    for (const letter of letters) console.log(JSON.stringify(describeDeadLetter(letter)));
    console.error(`${letters.length} dead letter(s) / 未処理のデッドレター ${letters.length} 件`);
  } else {
    const result = await store.retryDeadLetter(id ?? "", Date.now());
    if (result.ok) {
      console.log(`retrying ${id} (job ${result.jobId}) / ${id} を再実行します（ジョブ ${result.jobId}）`);
    } else {
      const why = {
        not_found: `no dead letter ${id} / デッドレター ${id} はありません`,
        already_retried: `${id} was already retried / ${id} は再実行済みです`,
        conflict: `an identical notification is pending again / 同じ通知がすでに処理待ちです`,
      }[result.reason];
      console.error(why);
      process.exitCode = 1;
    }
  }
} finally {
  await store.close();
}
