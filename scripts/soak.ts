/**
 * npm run soak: the standing fault suite (scripts/soak/run-soak.ts). Prints what was sent,
 * delivered, duplicated, lost, written and dead-lettered, then one `soak result: {json}` line for
 * machines; exits 1 when anything was duplicated or lost. SOAK_SECONDS (default 60),
 * SOAK_NOTIFICATIONS_PER_SECOND (2), SOAK_KILLS, SOAK_DRAIN_SECONDS (300), SOAK_SEED.
 */
import { runSoak } from "./soak/run-soak.js";
import { readSoakOptions } from "./soak/soak-options.js";

const options = readSoakOptions(process.env);
const report = await runSoak(options, (line) => console.log(line));
const injected = report.injectedErrors.line + report.injectedErrors.kintone + report.injectedErrors.kintoneAnswersLost;
const rows: Array<[string, string | number]> = [
  ["notifications sent", report.notificationsSent],
  ["pushes delivered", `${report.pushesDelivered} (distinct retry keys; ${report.pushesExpected} recipients owed a message)`],
  ["duplicated", report.duplicated],
  ["lost", report.lost],
  ["acknowledgements written", `${report.acknowledgementsWritten} of ${report.acknowledgementsExpected} owed`],
  ["comments duplicated", report.commentsDuplicated],
  ["dead-lettered", report.deadLettered ?? "n/a (no /v1/dead-letters)"],
];
console.log("");
console.log(
  `faults: ${report.kills} kills (${report.killsAfterCommit} right after a kintone commit), ${injected} injected errors ` +
    `(LINE ${report.injectedErrors.line}, kintone ${report.injectedErrors.kintone}, kintone answers lost ${report.injectedErrors.kintoneAnswersLost}), ` +
    `${report.outages} outages; ${report.webhook.events} tap events, ${report.webhook.redeliveries} redelivered`,
);
console.log(`load ${report.loadSeconds} s, drained ${report.drained ? "in" : "NOT within"} ${report.drainSeconds.toFixed(1)} s; relay log: ${report.relayLog}`);
for (const [name, value] of rows) console.log(`${`${name}:`.padEnd(26)}${value}`);
for (const detail of [...report.duplicatedPushes, ...report.duplicatedComments]) console.log(`  duplicated: ${detail}`);
for (const detail of [...report.lostPushes, ...report.lostAcknowledgements]) console.log(`  lost: ${detail}`);
for (const problem of report.problems) console.log(`  problem: ${problem}`);
const { relayLog: _relayLog, ...machine } = report;
console.log(`soak result: ${JSON.stringify(machine)}`);
process.exitCode = report.duplicated === 0 && report.lost === 0 && report.commentsDuplicated === 0 && report.problems.length === 0 ? 0 : 1;
