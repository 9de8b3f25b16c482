import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { OpenApiDocument } from "./openapi-validator.js";

/**
 * Reads LINE's OpenAPI specs (line/line-openapi) from disk at run time. They are data owned by
 * LINE, not project code, so they are never copied into the repository. Each file is parsed once
 * per process: the messaging spec is large and every emulator in a test run shares it.
 */
export type LineSpecName = "messaging-api" | "webhook" | "channel-access-token";

const cache = new Map<string, OpenApiDocument>();

/** LINE_OPENAPI_DIR, else the shared contracts folder beside the checkout. */
export function defaultSpecDir(): string {
  const fromEnv = process.env.LINE_OPENAPI_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return fileURLToPath(new URL("../../../shared/contracts/line-openapi/", import.meta.url));
}

/** Whether the spec files the emulator needs are in `specDir`. */
export function lineSpecsPresent(specDir: string = defaultSpecDir()): boolean {
  return (["messaging-api", "channel-access-token"] as const).every((name) => existsSync(path.resolve(specDir, `${name}.yml`)));
}

export function loadLineSpec(name: LineSpecName, specDir: string = defaultSpecDir()): OpenApiDocument {
  const file = path.resolve(specDir, `${name}.yml`);
  const cached = cache.get(file);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(
      `LINE OpenAPI spec not found at ${file} (set LINE_OPENAPI_DIR to the line-openapi folder): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const doc = parse(text) as OpenApiDocument;
  cache.set(file, doc);
  return doc;
}
