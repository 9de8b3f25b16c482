/**
 * `npm run check:line-contract`: holds the LINE emulator's committed contract (and the limits of
 * emulators/line/message-limits.ts) against LINE's OpenAPI specs in LINE_OPENAPI_DIR, else
 * ../shared/contracts/line-openapi beside the checkout. CI runs it where that folder exists; it is
 * not part of `npm test`, which needs nothing beside the repo.
 * Exit 0: in step. 1: drift, one line per problem. 2: the specs are not there.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { committedLineContract } from "../emulators/line/contract/line-contract.js";
import { SCHEMA_LIMITS } from "../emulators/line/message-limits.js";
import { findContractDrift, formatDrift, type OpenApiDocument } from "./line-contract-drift.js";

const SPEC_FILES = ["messaging-api.yml", "channel-access-token.yml"];

const specDir = process.env.LINE_OPENAPI_DIR
  ? path.resolve(process.env.LINE_OPENAPI_DIR)
  : fileURLToPath(new URL("../../shared/contracts/line-openapi/", import.meta.url));

const missing = SPEC_FILES.filter((file) => !existsSync(path.join(specDir, file)));
if (missing.length > 0) {
  console.error(`check:line-contract: no LINE OpenAPI specs at ${specDir} (missing ${missing.join(", ")}); set LINE_OPENAPI_DIR. Nothing was checked.`);
  process.exit(2);
}

const specs = SPEC_FILES.map((file) => parse(readFileSync(path.join(specDir, file), "utf8")) as OpenApiDocument);
const contract = committedLineContract();
const drifts = findContractDrift(contract, specs, SCHEMA_LIMITS);
for (const drift of drifts) console.log(formatDrift(drift));
if (drifts.length > 0) {
  console.error(
    `check:line-contract: ${drifts.length} difference(s) between the contract (@line/bot-sdk ${contract.source.version}) and LINE's specs in ${specDir}`,
  );
  process.exit(1);
}
console.log(`check:line-contract: the contract (@line/bot-sdk ${contract.source.version}) matches LINE's specs in ${specDir}`);
