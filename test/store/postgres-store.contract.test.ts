import { afterAll, beforeAll } from "vitest";
import { openPostgresStore } from "../../relay/src/store/postgres/pg-store.js";
import { startTestPostgres, type TestPostgres } from "../helpers/test-postgres.js";
import { describeStoreContract } from "./store-contract.js";

/** The store contract on PostgreSQL: one server for the file, a new empty database for each test. */
let server: TestPostgres | undefined;

beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describeStoreContract("PostgreSQL", async () => {
  if (!server) throw new Error("the test PostgreSQL did not start");
  const store = await openPostgresStore(await server.newDatabase());
  return { store, close: () => store.close() };
});
