import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * Two boundaries, checked on the code rather than trusted to convention.
 *
 * Production carries no stand-ins: nothing under relay/src may reach emulators/ or plugin/
 * (static `import`, `export ... from`, `import()`), directly or through a chain of imports.
 * The sandbox, which composes the relay with the emulators, lives outside relay/src.
 *
 * Reply vs Push:
 * - nothing under the notification side may reach the reply sender, and nothing under the webhook
 *   side may reach the push sender, directly or through any chain of imports;
 * - the LINE endpoints themselves are named only inside their sender, so a raw `fetch` to
 *   /v2/bot/message/push from webhook code is caught too.
 */
export interface BoundaryRule {
  zone: string;
  forbidden: string;
  why: string;
}

export const RELAY_BOUNDARIES: BoundaryRule[] = [
  {
    zone: "relay/src/notifications",
    forbidden: "relay/src/line/reply-sender.ts",
    why: "status notifications always push; a reply token does not exist there",
  },
  {
    zone: "relay/src/webhook",
    forbidden: "relay/src/line/push-sender.ts",
    why: "webhook handlers answer with Reply and never push",
  },
];

/** Folders the product (relay/src) must never reach. */
export interface ForbiddenDirRule {
  zone: string;
  forbiddenDir: string;
  why: string;
}

export const PRODUCTION_BOUNDARIES: ForbiddenDirRule[] = [
  { zone: "relay/src", forbiddenDir: "emulators", why: "stand-ins for LINE and kintone are for tests and the sandbox, never production" },
  { zone: "relay/src", forbiddenDir: "plugin", why: "the plugin runs in kintone's browser; shared code lives in common/" },
];

export const ENDPOINT_OWNERS: Array<{ pattern: RegExp; owner: string }> = [
  { pattern: /\/v2\/bot\/message\/(push|multicast|narrowcast|broadcast)\b/, owner: "relay/src/line/push-sender.ts" },
  { pattern: /\/v2\/bot\/message\/reply\b/, owner: "relay/src/line/reply-sender.ts" },
];

export interface Violation {
  file: string;
  message: string;
}

// Static imports and re-exports, `import("...")` (also with a plain template literal), bare
// `import "..."`, and require().
const IMPORT = /(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*(?:['"]([^'"]+)['"]|`([^`$]+)`)\s*\)|import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTs(path);
    return /\.(ts|tsx|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.(m?js)$/, ".ts"), `${base}.ts`, join(base, "index.ts")];
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3] ?? match[4] ?? match[5];
    const target = spec && resolveImport(file, spec);
    if (target) found.push(target);
  }
  return found;
}

/** Returns the import chain from `start` to a file `isTarget` accepts, or undefined when there is none. */
function findChain(start: string, isTarget: (file: string) => boolean, graph: Map<string, string[]>): string[] | undefined {
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (file !== start && isTarget(file)) {
      const chain = [file];
      while (previous.has(chain[0] as string)) chain.unshift(previous.get(chain[0] as string) as string);
      return chain;
    }
    for (const next of graph.get(file) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

export function checkBoundaries(
  rootDir: string,
  rules: BoundaryRule[] = RELAY_BOUNDARIES,
  owners = ENDPOINT_OWNERS,
  sourceDir = "relay/src",
  dirRules: ForbiddenDirRule[] = PRODUCTION_BOUNDARIES,
): Violation[] {
  const root = resolve(rootDir);
  const files = listTs(join(root, sourceDir));
  const graph = new Map<string, string[]>();
  const pending = [...files];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (graph.has(file)) continue;
    const targets = importsOf(file);
    graph.set(file, targets);
    pending.push(...targets.filter((target) => !graph.has(target)));
  }

  const violations: Violation[] = [];
  const rel = (file: string) => relative(root, file);
  for (const rule of rules) {
    const forbidden = join(root, rule.forbidden);
    for (const file of files.filter((f) => rel(f).startsWith(rule.zone + "/"))) {
      const chain = findChain(file, (f) => f === forbidden, graph);
      if (chain) {
        violations.push({
          file: rel(file),
          message: `reaches ${rule.forbidden} (${chain.map(rel).join(" -> ")}): ${rule.why}`,
        });
      }
    }
  }
  for (const rule of dirRules) {
    const forbiddenDir = join(root, rule.forbiddenDir) + sep;
    for (const file of files.filter((f) => rel(f).startsWith(rule.zone + "/"))) {
      const chain = findChain(file, (f) => f.startsWith(forbiddenDir), graph);
      if (chain) {
        violations.push({
          file: rel(file),
          message: `reaches ${rule.forbiddenDir}/ (${chain.map(rel).join(" -> ")}): ${rule.why}`,
        });
      }
    }
  }
  for (const file of files) {
    const lines = readFileSync(file, "utf8").split("\n");
    for (const { pattern, owner } of owners) {
      if (rel(file) === owner) continue;
      lines.forEach((line, index) => {
        if (pattern.test(line)) {
          violations.push({
            file: `${rel(file)}:${index + 1}`,
            message: `names the LINE endpoint ${pattern.exec(line)?.[0]}; only ${owner} may call it`,
          });
        }
      });
    }
  }
  return violations;
}
