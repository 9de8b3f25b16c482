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

describe("production carries no stand-ins: relay/src never reaches emulators/ or plugin/", () => {
  const emulator = { "emulators/line/line-emulator.ts": `export const createLineEmulator = () => ({});` };

  it("catches a static import from relay/src into emulators/", () => {
    const root = tree({ ...senders, ...emulator, "relay/src/start.ts": `import { createLineEmulator } from "../../emulators/line/line-emulator.js";` });
    expect(checkBoundaries(root)).toEqual([
      { file: "relay/src/start.ts", message: expect.stringContaining("reaches emulators/ (relay/src/start.ts -> emulators/line/line-emulator.ts)") },
    ]);
  });

  it("catches a dynamic import(), with quotes or a plain template literal", () => {
    const root = tree({
      ...senders,
      ...emulator,
      "plugin/src/settings/save-plan.ts": `export const planSave = () => 1;`,
      "relay/src/server.ts": `if (!configured) { const { createLineEmulator } = await import("../../emulators/line/line-emulator.js"); }`,
      "relay/src/other.ts": "const m = await import(`../../plugin/src/settings/save-plan.js`);",
    });
    const violations = checkBoundaries(root);
    expect(violations.map((v) => v.file).sort()).toEqual(["relay/src/other.ts", "relay/src/server.ts"]);
    expect(violations.find((v) => v.file === "relay/src/other.ts")?.message).toContain("reaches plugin/");
  });

  it("catches a chain through code outside relay/src (common/ re-exporting an emulator)", () => {
    const root = tree({
      ...senders,
      ...emulator,
      "common/helper.ts": `export * from "../emulators/line/line-emulator.js";`,
      "relay/src/app.ts": `import { createLineEmulator } from "../../common/helper.js";`,
    });
    expect(checkBoundaries(root)).toEqual([
      { file: "relay/src/app.ts", message: expect.stringContaining("relay/src/app.ts -> common/helper.ts -> emulators/line/line-emulator.ts") },
    ]);
  });

  it("lets code outside relay/src (the sandbox, tests) compose the relay with the emulators", () => {
    const root = tree({
      ...senders,
      ...emulator,
      "relay/src/app.ts": `export const createRelay = () => ({});`,
      "sandbox/start-sandbox.ts": `import { createRelay } from "../relay/src/app.js";\nimport { createLineEmulator } from "../emulators/line/line-emulator.js";`,
    });
    expect(checkBoundaries(root)).toEqual([]);
  });

  it("fails CI: the script exits 1 and names the file", async () => {
    const { spawnSync } = await import("node:child_process");
    const root = tree({ ...senders, ...emulator, "relay/src/server.ts": `const e = await import("../../emulators/line/line-emulator.js");` });
    const run = spawnSync(join(process.cwd(), "node_modules/.bin/tsx"), [join(process.cwd(), "scripts/check-boundaries.ts")], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("relay/src/server.ts: reaches emulators/");
  });
});
