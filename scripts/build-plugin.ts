/**
 * Packs the built plugin scripts into a signed `dist/plugin.zip` (run after webpack: `npm run build`).
 *
 * The signing key (PLUGIN_PPK, default ./private.ppk) fixes the plugin ID: kintone identifies a
 * plugin by its public key, so a new key means a new plugin that cannot upgrade the old one. The key
 * is created on the first build when missing and must never be committed.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import validateManifestModule from "@kintone/plugin-manifest-validator";
import { packPluginFromManifest } from "@kintone/plugin-packer/from-manifest";
import { manifestFiles } from "../common/kintone/plugin-manifest.js";

// A CommonJS module with `exports.default`: Node's ESM loader hands over the whole exports object.
const validateManifest =
  (validateManifestModule as unknown as { default?: typeof validateManifestModule }).default ?? validateManifestModule;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DESKTOP_BUDGET_BYTES = 30 * 1024;

interface Manifest {
  version: string | number;
  icon: string;
  desktop?: { js?: string[]; css?: string[] };
  mobile?: { js?: string[]; css?: string[] };
  config?: { html?: string; js?: string[]; css?: string[] };
}

function fail(message: string): never {
  console.error(`build-plugin: ${message}`);
  process.exit(1);
}


function loadOrCreateKey(ppkPath: string): string {
  if (existsSync(ppkPath)) return readFileSync(ppkPath, "utf8");
  // Same key kind as kintone-plugin-packer makes (RSA 1024, PKCS#1 PEM).
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 1024,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  mkdirSync(path.dirname(ppkPath), { recursive: true });
  writeFileSync(ppkPath, privateKey, { mode: 0o600 });
  console.log(`build-plugin: created a new signing key at ${ppkPath} (keep it, never commit it: it fixes the plugin ID)`);
  return privateKey;
}

async function main(): Promise<void> {
  const manifestPath = path.join(root, "manifest.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  if (String(manifest.version) !== pkg.version) {
    fail(`manifest.json version ${manifest.version} differs from package.json version ${pkg.version}`);
  }

  const result = validateManifest(manifest as unknown as Record<string, unknown>, {
    fileExists: (file) => existsSync(path.join(root, file)),
    maxFileSize: (maxBytes, file) => statSync(path.join(root, file)).size <= maxBytes,
  });
  if (!result.valid) {
    const lines = (result.errors ?? []).map((e) => `  ${e.instancePath || "/"} ${e.message ?? ""}`);
    fail(`manifest.json is invalid (did webpack run?):\n${lines.join("\n")}`);
  }

  const files = manifestFiles(manifest);
  const missing = files.filter((file) => !existsSync(path.join(root, file)));
  if (missing.length > 0) fail(`missing files (run webpack first): ${missing.join(", ")}`);

  const ppkPath = path.resolve(root, process.env.PLUGIN_PPK ?? "private.ppk");
  const privateKey = loadOrCreateKey(ppkPath);
  const { plugin, id } = await packPluginFromManifest(manifestPath, privateKey);

  const outPath = path.join(root, "dist", "plugin.zip");
  mkdirSync(path.dirname(outPath), { recursive: true });
  writeFileSync(outPath, plugin);

  console.log(`plugin ID: ${id}`);
  for (const file of files.filter((f) => /\.(js|css|html)$/.test(f))) {
    const size = statSync(path.join(root, file)).size;
    console.log(`  ${file.padEnd(28)} ${(size / 1024).toFixed(1).padStart(7)} KB`);
  }
  console.log(`dist/plugin.zip ${(plugin.length / 1024).toFixed(1)} KB`);

  const desktopSize = (manifest.desktop?.js ?? [])
    .filter((f) => !/^https?:/.test(f))
    .reduce((sum, f) => sum + statSync(path.join(root, f)).size, 0);
  if (desktopSize > DESKTOP_BUDGET_BYTES) {
    fail(`desktop scripts are ${desktopSize} bytes, over the ${DESKTOP_BUDGET_BYTES}-byte budget`);
  }
}

await main();
