import { createPrivateKey, createPublicKey, createVerify } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_API_TOKEN } from "../../emulators/demo-app.js";
import { manifestFiles, pluginIdFromPublicKey, unzip } from "../../emulators/kintone-page/plugin-zip.js";
import type { PluginManifest } from "../../emulators/kintone-page/plugin-zip.js";
import { ensurePluginBuilt, ROOT } from "../browser/browser-harness.js";
import {
  TEST_CHANNEL_SECRET,
  TEST_LONG_LIVED_TOKEN,
  TEST_RELAY_SECRET,
  TEST_SIGNING_KEY,
} from "../helpers/start-stack.js";

let zip: Buffer;
let outer: Map<string, Buffer>;
let contents: Map<string, Buffer>;
let manifest: PluginManifest;

beforeAll(async () => {
  zip = await ensurePluginBuilt();
  outer = unzip(zip);
  contents = unzip(outer.get("contents.zip")!);
  manifest = JSON.parse(contents.get("manifest.json")!.toString("utf8")) as PluginManifest;
}, 120_000);

describe("dist/plugin.zip", () => {
  it("holds contents.zip, PUBKEY and SIGNATURE, and the signature verifies (RSA-SHA1 over contents.zip)", () => {
    expect([...outer.keys()].sort()).toEqual(["PUBKEY", "SIGNATURE", "contents.zip"]);
    const verifier = createVerify("RSA-SHA1");
    verifier.update(outer.get("contents.zip")!);
    const publicKey = createPublicKey({ key: outer.get("PUBKEY")!, format: "der", type: "spki" });
    expect(verifier.verify(publicKey, outer.get("SIGNATURE")!)).toBe(true);
  });

  it("is signed with the key at PLUGIN_PPK, which fixes the plugin ID", () => {
    const ppk = path.resolve(ROOT, process.env.PLUGIN_PPK ?? "private.ppk");
    expect(existsSync(ppk)).toBe(true);
    const spki = createPublicKey(createPrivateKey(readFileSync(ppk, "utf8"))).export({ format: "der", type: "spki" });
    expect(Buffer.compare(spki, outer.get("PUBKEY")!)).toBe(0);
    expect(pluginIdFromPublicKey(outer.get("PUBKEY")!)).toMatch(/^[a-p]{32}$/);
  });

  it("contains every file the manifest names, and the manifest matches package.json", () => {
    const files = manifestFiles(manifest);
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) expect(contents.has(file), file).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(String(manifest.version)).toBe(pkg.version);
    expect(manifest.name.ja && manifest.name.en && manifest.description?.ja && manifest.description?.en).toBeTruthy();
  });

  it("keeps the desktop script within its 30 KB budget", () => {
    const desktop = manifest.desktop?.js ?? [];
    const size = desktop.reduce((sum, file) => sum + (contents.get(file)?.length ?? 0), 0);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(30 * 1024);
  });

  it("holds no secret used in the tests, nor the signing key", () => {
    const ppk = readFileSync(path.resolve(ROOT, process.env.PLUGIN_PPK ?? "private.ppk"), "utf8");
    const keyBody = ppk.split("\n").filter((line) => line && !line.startsWith("-----"))[1] ?? "";
    const secrets = [TEST_RELAY_SECRET, TEST_CHANNEL_SECRET, TEST_LONG_LIVED_TOKEN, TEST_SIGNING_KEY, DEMO_API_TOKEN, keyBody];
    const haystacks = [zip, outer.get("contents.zip")!, ...contents.values()];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      for (const hay of haystacks) expect(hay.includes(Buffer.from(secret)), secret.slice(0, 6)).toBe(false);
    }
  });
});
