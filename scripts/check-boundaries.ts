import { checkBoundaries } from "./boundary-check.js";

// CI gate for "Reply vs Push is a hard boundary" (see scripts/boundary-check.ts).
const violations = checkBoundaries(process.cwd());
if (violations.length > 0) {
  console.error(`Reply/Push boundary violated in ${violations.length} place(s):`);
  for (const violation of violations) console.error(`  ${violation.file}: ${violation.message}`);
  process.exit(1);
}
console.log("Reply/Push boundary: ok (notifications never reach the reply sender; webhook code never reaches the push sender)");
