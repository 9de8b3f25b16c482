/**
 * Reads a kintone plugin zip as kintone does on upload: the outer zip holds `contents.zip`,
 * `PUBKEY` (SPKI DER) and `SIGNATURE` (RSA PKCS#1 v1.5 SHA-1 over contents.zip); the plugin ID is
 * the first 32 hex digits of SHA-256(PUBKEY) mapped 0-9a-f -> a-p.
 */
import { createHash, createPublicKey, createVerify } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import type { PluginManifest } from "../../common/kintone/plugin-manifest.js";

export { manifestFiles, type PluginManifest } from "../../common/kintone/plugin-manifest.js";

/** Entries of a zip (stored or deflated), by name. Enough for the packer's output. */
export function unzip(zip: Buffer): Map<string, Buffer> {
  const eocdSignature = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === eocdSignature) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error("bad central directory entry");
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.subarray(offset + 46, offset + 46 + nameLength).toString("utf8");
    offset += 46 + nameLength + extraLength + commentLength;

    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const localNameLength = zip.readUInt16LE(localOffset + 26);
    const localExtraLength = zip.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const data = zip.subarray(start, start + compressedSize);
    if (name.endsWith("/")) continue;
    if (method === 0) entries.set(name, Buffer.from(data));
    else if (method === 8) entries.set(name, inflateRawSync(data));
    else throw new Error(`unsupported compression method ${method} for ${name}`);
  }
  return entries;
}


export interface PluginPackage {
  id: string;
  manifest: PluginManifest;
  /** contents.zip entries by path. */
  files: Map<string, Buffer>;
  contentsZip: Buffer;
  publicKey: Buffer;
  signature: Buffer;
  /** RSA-SHA1 signature over contents.zip checks out against PUBKEY. */
  signatureValid: boolean;
}

export function pluginIdFromPublicKey(publicKey: Buffer): string {
  const hex = createHash("sha256").update(publicKey).digest("hex").slice(0, 32);
  return hex.replace(/[0-9a-f]/g, (c) => String.fromCharCode("a".charCodeAt(0) + parseInt(c, 16)));
}

export function readPluginZip(zip: Buffer): PluginPackage {
  const outer = unzip(zip);
  const contentsZip = outer.get("contents.zip");
  const publicKey = outer.get("PUBKEY");
  const signature = outer.get("SIGNATURE");
  if (!contentsZip || !publicKey || !signature) throw new Error("plugin zip lacks contents.zip, PUBKEY or SIGNATURE");
  const files = unzip(contentsZip);
  const manifestFile = files.get("manifest.json");
  if (!manifestFile) throw new Error("contents.zip has no manifest.json at its top");
  const verifier = createVerify("RSA-SHA1");
  verifier.update(contentsZip);
  const signatureValid = verifier.verify(createPublicKey({ key: publicKey, format: "der", type: "spki" }), signature);
  return {
    id: pluginIdFromPublicKey(publicKey),
    manifest: JSON.parse(manifestFile.toString("utf8")) as PluginManifest,
    files,
    contentsZip,
    publicKey,
    signature,
    signatureValid,
  };
}
