import pg from "pg";
import { inject } from "vitest";
import { startEmbeddedPostgres } from "./global-setup-postgres.js";

/** A PostgreSQL server for one test file: each test takes a fresh, empty database from it. */
export interface TestPostgres {
  /** The connection URL of `dbName` on this server. */
  url(dbName: string): string;
  /**
   * Creates a database no one used before and returns its URL: empty, or a copy of `template`
   * (a database of this server no one is connected to, e.g. one a store already migrated).
   */
  newDatabase(options?: { template?: string }): Promise<string>;
  /** Stops the server (and removes its data) or, on a shared server, drops the databases made here. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server for a test file, so the tests need no installed server: with
 * TEST_DATABASE_URL set (CI with a service container, a developer's own server) that server; else
 * the embedded server the run's global setup started once for all files; else (a run without
 * that setup) a server of this file's own. Each file creates its own databases in it, named after
 * its process, so files running side by side never meet.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const shared = process.env.TEST_DATABASE_URL ?? inject("testPostgresAdminUrl");
  if (shared) return onServer(new URL(shared), { ownServer: false, stopServer: async () => {} });
  const server = await startEmbeddedPostgres();
  return onServer(new URL(server.adminUrl), { ownServer: true, stopServer: () => server.stop() });
}

async function onServer(admin: URL, server: { ownServer: boolean; stopServer: () => Promise<void> }): Promise<TestPostgres> {
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
      if (!server.ownServer) {
        // A server other files (or someone else) go on using: leave it as it was. FORCE
        // (PostgreSQL 13+) ends connections a failed test left open.
        for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
      await client.end();
      await server.stopServer();
    },
  };
}
