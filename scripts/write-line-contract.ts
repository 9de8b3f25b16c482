/**
 * Writes emulators/line/contract/line-contract.schema.json from @line/bot-sdk's types
 * (`npm run line-contract`). The file is committed; test/emulators/line-contract.test.ts fails when
 * it no longer matches what the installed SDK gives.
 */
import { writeFileSync } from "node:fs";
import { lineContractText } from "../emulators/line/contract/build-line-contract.js";
import { LINE_CONTRACT_FILE } from "../emulators/line/contract/line-contract.js";

writeFileSync(LINE_CONTRACT_FILE, lineContractText());
console.log(`wrote ${LINE_CONTRACT_FILE}`);
