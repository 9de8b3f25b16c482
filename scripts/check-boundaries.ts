import { checkBoundaries } from "./boundary-check.js";

// CI gate for "Reply vs Push is a hard boundary" and "production carries no stand-ins"
// (see scripts/boundary-check.ts).
const violations = checkBoundaries(process.cwd());
if (violations.length > 0) {
  console.error(`Code boundaries violated in ${violations.length} place(s):`);
  for (const violation of violations) console.error(`  ${violation.file}: ${violation.message}`);
  process.exit(1);
}
console.log(
  "Code boundaries: ok (notifications never reach the reply sender; webhook code never reaches the push sender; " +
    "relay/src never reaches emulators/ or plugin/)",
);
