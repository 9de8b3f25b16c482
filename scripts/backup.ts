import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";

// `npm run backup -- <file>`: an online, consistent copy of the relay's database (SQLite's backup
// API), safe while the relay runs. Reads RELAY_DATA_DIR from the environment or .env.
try {
  process.loadEnvFile(".env");
} catch {
  // no .env
}
const target = process.argv[2];
const source = join(process.env.RELAY_DATA_DIR?.trim() || "./data", "relay.sqlite");
if (!target) {
  console.error("usage: npm run backup -- <backup file>");
  process.exit(2);
}
if (!existsSync(source)) {
  console.error(`no relay database at ${source} (set RELAY_DATA_DIR)`);
  process.exit(1);
}
const db = new Database(source, { readonly: true, fileMustExist: true });
try {
  const { totalPages } = await db.backup(target);
  console.log(`backed up ${source} to ${target} (${totalPages} pages)`);
} finally {
  db.close();
}
