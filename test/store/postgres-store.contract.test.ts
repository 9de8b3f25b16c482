import { afterAll, beforeAll } from "vitest";
import { openPostgresStore } from "../../relay/src/store/postgres/pg-store.js";
import { startTestPostgres, type TestPostgres } from "../helpers/test-postgres.js";
import { describeStoreContract } from "./store-contract.js";

/**
 * The store contract on PostgreSQL: one server for the file, a new database for each test. Each
 * is a copy of one the store migrated once here (migrating every test's database took most of
 * the suite's time); migrations themselves are tested in postgres-store-open.test.ts.
 */
let server: TestPostgres | undefined;
let migrated: string | undefined;

beforeAll(async () => {
  server = await startTestPostgres();
  const url = await server.newDatabase();
  await (await openPostgresStore(url)).close();
  migrated = decodeURIComponent(new URL(url).pathname.slice(1));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describeStoreContract("PostgreSQL", async () => {
  if (!server || !migrated) throw new Error("the test PostgreSQL did not start");
  const store = await openPostgresStore(await server.newDatabase({ template: migrated }));
  return { store, close: () => store.close() };
});
