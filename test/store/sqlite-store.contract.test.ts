import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../relay/src/store/sqlite-store.js";
import { describeStoreContract } from "./store-contract.js";

/** The store contract on SQLite: in memory (the tests' usual store) and in a folder (the relay's, with its inbox writer thread). */
describeStoreContract("SQLite in memory", async () => {
  const store = openSqliteStore(":memory:");
  return { store, close: () => store.close() };
});

describeStoreContract("SQLite in a folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "relay-contract-"));
  const store = openSqliteStore(dir);
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
