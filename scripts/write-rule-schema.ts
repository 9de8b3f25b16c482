/**
 * Writes common/rules/rule-set.schema.json from the zod schema (`npm run schema`).
 * The file is committed; test/common/rule-set-schema.test.ts fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ruleSetJsonSchemaText } from "../common/rules/rule-set-json-schema.js";

const target = fileURLToPath(new URL("../common/rules/rule-set.schema.json", import.meta.url));
writeFileSync(target, ruleSetJsonSchemaText());
console.log(`wrote ${target}`);
