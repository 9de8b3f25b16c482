/* global process, console, performance */
// The compiled relay: relay/src/server.ts (the production entry) and start.ts (what `npm start`
// runs) bundled by esbuild into dist/relay/, so the relay starts without transpiling TypeScript.
// Plain JavaScript on purpose: `npm start` (scripts/start.mjs) imports it before any TypeScript
// loader exists. `node scripts/relay-bundle.mjs` (`npm run build:relay`) builds it.
import { build } from "esbuild";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const RELAY_BUNDLE_DIR = join(ROOT, "dist/relay");
export const relayBundleEntry = (name) => join(RELAY_BUNDLE_DIR, `${name}.mjs`);

// What the bundle is made of: a change to any of these makes it stale.
const SOURCE_DIRS = ["relay/src", "common"];
const SOURCE_FILES = ["start.ts", "package-lock.json", "scripts/relay-bundle.mjs"];

function newestSourceMtime() {
  let newest = 0;
  const visit = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (/\.(ts|json|mjs)$/.test(path)) newest = Math.max(newest, stat.mtimeMs);
  };
  for (const dir of SOURCE_DIRS) visit(join(ROOT, dir));
  for (const file of SOURCE_FILES) visit(join(ROOT, file));
  return newest;
}

/** True when a bundle is missing, or older than a source it is built from. */
export function relayBundleIsStale() {
  const built = Math.min(
    ...["server", "start"].map((name) => statSync(relayBundleEntry(name), { throwIfNoEntry: false })?.mtimeMs ?? 0),
  );
  return built === 0 || built < newestSourceMtime();
}

/**
 * zod's `z` namespace re-exports all of its 50-odd message locales (`z.locales`), about 300 KB of
 * the bundle that start-up would parse and run; the relay words its own messages (ja and en) and
 * never sets a zod locale. Only English stays, which zod registers as its default itself.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer) ? { path: "zod-locales", namespace: "zod-english-only" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-english-only" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: ROOT,
      loader: "js",
    }));
  },
};

export async function buildRelayBundle() {
  await build({
    plugins: [zodEnglishOnly],
    absWorkingDir: ROOT,
    entryPoints: { server: "relay/src/server.ts", start: "start.ts" },
    outdir: RELAY_BUNDLE_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    platform: "node",
    format: "esm",
    target: "node20.12",
    // Smaller text parses faster at start-up; the names stay so stack traces remain readable.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: "linked",
    // better-sqlite3 is native; tsx is only what start.ts loads for the sandbox (TypeScript sources).
    external: ["better-sqlite3", "tsx", "tsx/*"],
    // CommonJS packages inside the ESM bundle call require(): give them one.
    banner: { js: 'import { createRequire as __relayCreateRequire } from "node:module"; const require = __relayCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
}

/** Builds the bundle when it is missing or stale; returns the entry's file URL. */
export async function freshRelayBundle(name) {
  if (relayBundleIsStale()) {
    const started = performance.now();
    await buildRelayBundle();
    console.error(`(built the compiled relay in dist/relay/ in ${Math.round(performance.now() - started)} ms: its sources changed)`);
  }
  return pathToFileURL(relayBundleEntry(name)).href;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await buildRelayBundle();
  console.log(`compiled relay: ${relayBundleEntry("server")}, ${relayBundleEntry("start")}`);
}
