import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkBoundaries } from "../../scripts/boundary-check.js";

const dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "boundary-"));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const senders = {
  "relay/src/line/push-sender.ts": `export const path = "/v2/bot/message/push";`,
  "relay/src/line/reply-sender.ts": `export const path = "/v2/bot/message/reply";`,
};

describe("Reply/Push boundary check", () => {
  it("passes on the repository as it is", () => {
    expect(checkBoundaries(process.cwd())).toEqual([]);
  });

  it("passes a clean tree", () => {
    const root = tree({
      ...senders,
      "relay/src/notifications/send.ts": `import { path } from "../line/push-sender.js";`,
      "relay/src/webhook/answer.ts": `import { path } from "../line/reply-sender.js";`,
    });
    expect(checkBoundaries(root)).toEqual([]);
  });

  it("catches notification code importing the reply sender through another module", () => {
    const root = tree({
      ...senders,
      "relay/src/shared/helper.ts": `export { path } from "../line/reply-sender.js";`,
      "relay/src/notifications/send.ts": `import { path } from "../shared/helper.js";`,
    });
    const violations = checkBoundaries(root);
    expect(violations).toHaveLength(1);
    expect(violations[0]?.file).toBe("relay/src/notifications/send.ts");
    expect(violations[0]?.message).toContain("relay/src/shared/helper.ts -> relay/src/line/reply-sender.ts");
  });

  it("catches webhook code importing the push sender, and a raw call to the push endpoint", () => {
    const root = tree({
      ...senders,
      "relay/src/webhook/handle.ts": `const m = await import("../line/push-sender.js");`,
      "relay/src/webhook/sneaky.ts": `await fetch(base + "/v2/bot/message/multicast", {});`,
    });
    const violations = checkBoundaries(root).map((v) => v.file);
    expect(violations).toEqual(expect.arrayContaining(["relay/src/webhook/handle.ts", "relay/src/webhook/sneaky.ts:1"]));
  });

  it("fails CI: the script exits 1 on a violation", async () => {
    const { spawnSync } = await import("node:child_process");
    const root = tree({ ...senders, "relay/src/notifications/bad.ts": `import "../line/reply-sender.js";` });
    const run = spawnSync(join(process.cwd(), "node_modules/.bin/tsx"), [join(process.cwd(), "scripts/check-boundaries.ts")], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("relay/src/notifications/bad.ts");
  });
});
