import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Every shell command the README and the guides tell a reader to run must be run somewhere:
 * by CI (.ci/run), by the test command, or by a test. A new command in the docs fails this test
 * until it is given that evidence below, so no documented command can rot unnoticed. Other tools'
 * commands an operator types on their own systems (pg_dump, gcloud) sit in ```console blocks: the
 * project cannot run them, and they are not read here.
 */
const ROOT = join(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };

const DOCS = ["README.md", "plugin/README.md", ...readdirSync(join(ROOT, "docs")).map((name) => `docs/${name}`)].filter((p) =>
  p.endsWith(".md"),
);

/** Commands in ```sh / ```bash blocks, and npm/node lines in unlabeled blocks; comments dropped. */
function documentedCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const match of markdown.matchAll(/```([a-z]*)\n([\s\S]*?)```/g)) {
    const [, lang = "", body = ""] = match;
    if (!["sh", "bash", ""].includes(lang)) continue;
    for (const raw of body.split("\n")) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      if (!line || line.startsWith("#")) continue;
      if (lang === "" && !/^(npm|node|npx) /.test(line)) continue;
      commands.push(line);
    }
  }
  // Inline mentions too: `npm run schema`, `npm run bench:webhook`, ...
  for (const match of markdown.matchAll(/`((?:npm|npx) [^`]+)`/g)) commands.push((match[1] ?? "").trim());
  return [...new Set(commands)];
}

/** Where each documented command is exercised; each check reads the file that runs it. */
const EVIDENCE: Record<string, () => void> = {
  "npm ci": () => expect(read(".ci/run")).toMatch(/^npm ci\b/m),
  "npm test": () => expect(read(".ci/run")).toMatch(/^npm test$/m),
  "npm run build": () => expect(pkg.scripts.test).toContain("npm run build"),
  "npm start": () => {
    // `npm start` runs start.ts compiled (scripts/start.mjs builds it when stale; the bundle test
    // starts it); the sandbox test starts start.ts itself; the crash tests start the production
    // entry it hands over to when settings are present.
    expect(pkg.scripts.start).toBe("node scripts/start.mjs");
    expect(read("test/relay/relay-bundle.test.ts")).toContain('"scripts/start.mjs"');
    expect(read("test/integration/sandbox.test.ts")).toContain('join(ROOT, "start.ts")');
    expect(read("start.ts")).toContain('import("./relay/src/server.js")');
    expect(read("test/helpers/relay-process.ts")).toContain('"relay/src/server.ts"');
  },
  "npm run backup": () => expect(read("test/relay/backup.test.ts")).toContain('"backup", "--"'),
  "npm run backup -- backup.sqlite": () => expect(read("test/relay/backup.test.ts")).toContain('"backup", "--"'),
  "npm run backup -- <file>": () => expect(read("test/relay/backup.test.ts")).toContain('"backup", "--"'),
  "npm run app-key -- <appId>": () => expect(read("test/security/app-credentials.test.ts")).toContain('"app-key", "--"'),
  "npm run dead-letters": () => expect(read("test/relay/dead-letters-command.test.ts")).toContain('"dead-letters", "--"'),
  "npm run dead-letters -- list": () => expect(read("test/relay/dead-letters-command.test.ts")).toContain('"dead-letters", "--"'),
  "npm run dead-letters -- retry <id>": () => expect(read("test/relay/dead-letters-command.test.ts")).toContain('"retry", letter.id'),
  "npm run bench:claim": () => expect(read("test/relay/job-claims.test.ts")).toContain('"bench:claim"'),
  "npm run bench:webhook": () => expect(read("test/relay/bench-webhook.test.ts")).toContain('"bench:webhook"'),
  "npm run bench:cluster": () => expect(read("test/relay/bench-cluster.test.ts")).toContain('scripts["bench:cluster"]'),
  "npm run soak": () => expect(pkg.scripts.soak && read("test/integration/soak.test.ts")).toContain('["run", "-s", "soak"]'),
  [`node -e "console.log(require('crypto').randomBytes(24).toString('base64url'))"`]: () =>
    expect(read("test/docs/webhook-token-command.test.ts")).toContain("execSync(command!"),
  "npm run check:boundaries": () => expect(pkg.scripts.test).toContain("npm run check:boundaries"),
  "npm run schema": () => {
    // The schema test compares the committed file with exactly what the script writes.
    expect(read("scripts/write-rule-schema.ts")).toContain("ruleSetJsonSchemaText");
    expect(read("test/common/rule-set-schema.test.ts")).toContain("ruleSetJsonSchemaText");
  },
};

describe("documented commands", () => {
  const all = DOCS.flatMap((path) => documentedCommands(read(path)).map((command) => ({ path, command })));

  it("finds the commands (the extraction itself works)", () => {
    expect(all.map((c) => c.command)).toEqual(expect.arrayContaining(["npm ci", "npm start", "npm test"]));
  });

  for (const { path, command } of all) {
    it(`${path}: \`${command}\` is run by CI or a test`, () => {
      const evidence = EVIDENCE[command];
      expect(evidence, `no evidence that "${command}" (documented in ${path}) is run anywhere`).toBeDefined();
      evidence?.();
    });
  }

  it("every script the evidence names exists", () => {
    for (const script of ["start", "test", "build", "backup", "bench:webhook"]) expect(pkg.scripts[script]).toBeDefined();
    expect(existsSync(join(ROOT, ".ci/run"))).toBe(true);
  });
});
