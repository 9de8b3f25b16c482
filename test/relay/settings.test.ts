import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { readSettings, wantsSandbox } from "../../relay/src/settings.js";

const valid = {
  RELAY_SECRET: "relay-secret-0123456789",
  LINE_CHANNEL_SECRET: "channel-secret",
  LINE_CHANNEL_ACCESS_TOKEN: "long-lived",
  KINTONE_BASE_URL: "https://example.cybozu.com/",
  KINTONE_API_TOKEN: "abc123, def456",
};

describe("readSettings", () => {
  it("reads a complete environment with defaults", () => {
    const result = readSettings(valid);
    expect(result).toEqual({
      ok: true,
      settings: expect.objectContaining({
        port: 8787,
        kintoneBaseUrl: "https://example.cybozu.com",
        kintoneApiTokens: ["abc123", "def456"],
        lineApiBaseUrl: "https://api.line.me",
        lineAccessToken: { kind: "long-lived", token: "long-lived" },
        dataDir: "./data",
        timeZone: "Asia/Tokyo",
        confirmTimeoutMs: 30_000,
        jobLeaseMs: 30_000,
      }),
    });
  });

  it("chooses the token kind from what is set", () => {
    const stateless = readSettings({ ...valid, LINE_CHANNEL_ACCESS_TOKEN: "", LINE_CHANNEL_ID: "1234567890" });
    expect(stateless.ok && stateless.settings.lineAccessToken).toEqual({ kind: "stateless", channelId: "1234567890", channelSecret: "channel-secret" });
    const v21 = readSettings({ ...valid, LINE_CHANNEL_ACCESS_TOKEN: "", LINE_CHANNEL_ID: "1234567890", LINE_ASSERTION_KEY_FILE: "k.json", LINE_ASSERTION_KID: "kid1" });
    expect(v21.ok && v21.settings.lineAccessToken).toEqual({ kind: "v2.1", channelId: "1234567890", keyFile: "k.json", kid: "kid1" });
  });

  it("names every problem on its own line", () => {
    const result = readSettings({
      RELAY_SECRET: "short",
      KINTONE_BASE_URL: "http://example.cybozu.com",
      KINTONE_API_TOKEN: "ok, bad token!",
      PORT: "99999",
      RELAY_TIMEZONE: "Mars/Olympus",
      LINE_CHANNEL_ID: "1234567890",
      LINE_ASSERTION_KID: "kid",
    });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([
      expect.stringMatching(/^PORT: must be a whole number from 0 to 65535, got "99999"$/),
      expect.stringMatching(/^RELAY_SECRET: each secret must be at least 16 characters/),
      expect.stringMatching(/^LINE_CHANNEL_SECRET: missing/),
      expect.stringMatching(/^LINE_ASSERTION_KEY_FILE: missing/),
      expect.stringMatching(/^KINTONE_BASE_URL: must use https/),
      expect.stringMatching(/^KINTONE_API_TOKEN: each token must be letters and digits/),
      expect.stringMatching(/^RELAY_TIMEZONE: "Mars\/Olympus" is not an IANA time zone/),
    ]);
  });
});

describe("RELAY_DATABASE_URL: PostgreSQL instead of the embedded SQLite", () => {
  it("absent: SQLite in RELAY_DATA_DIR; a postgres:// URL is taken as given", () => {
    const sqlite = readSettings(valid);
    expect(sqlite.ok && sqlite.settings.databaseUrl).toBe(undefined);
    const url = "postgres://relay:s3cret@db.internal:5432/relay?sslmode=require";
    const postgres = readSettings({ ...valid, RELAY_DATABASE_URL: url });
    expect(postgres).toEqual({ ok: true, settings: expect.objectContaining({ databaseUrl: url }) });
  });

  it("a URL that cannot reach PostgreSQL is refused with why, never echoing the password", () => {
    const problems = (raw: string) => {
      const result = readSettings({ ...valid, RELAY_DATABASE_URL: raw });
      return result.ok ? [] : result.problems;
    };
    expect(problems("mysql://relay:s3cret@db:3306/relay")).toEqual([expect.stringMatching(/^RELAY_DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\//)]);
    expect(problems("postgres://relay:s3cret@db:5432")).toEqual([expect.stringMatching(/^RELAY_DATABASE_URL: names no database/)]);
    expect(problems("db.internal/relay")).toEqual([expect.stringMatching(/^RELAY_DATABASE_URL: is not a URL/)]);
    for (const raw of ["mysql://relay:s3cret@db:3306/relay", "postgres://relay:s3cret@db:5432"]) expect(problems(raw).join("\n")).not.toContain("s3cret");
  });
});

describe("RELAY_SECRET: current and previous secrets (rotation)", () => {
  it("reads a comma-separated list, current first", () => {
    const result = readSettings({ ...valid, RELAY_SECRET: " new-secret-0123456789 , old-secret-0123456789 " });
    expect(result.ok && result.settings.relaySecrets).toEqual(["new-secret-0123456789", "old-secret-0123456789"]);
  });

  it("checks each secret, one line per problem", () => {
    const result = readSettings({ ...valid, RELAY_SECRET: "new-secret-0123456789,short,has space or ! 0123456789" });
    expect(result.ok ? [] : result.problems).toEqual([
      "RELAY_SECRET: each secret must be at least 16 characters (use a long random string) (secret 2 of 3)",
      "RELAY_SECRET: each secret may hold only letters, digits and - . _ ~ + / (what a Bearer header carries) (secret 3 of 3)",
    ]);
  });

  it("a list of nothing but commas is missing", () => {
    const result = readSettings({ ...valid, RELAY_SECRET: " , " });
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(/^RELAY_SECRET: missing/)]);
  });
});

describe("sandbox or relay", () => {
  it("the sandbox only with no LINE or kintone setting at all, and never with NODE_ENV=production", () => {
    expect(wantsSandbox({})).toBe(true);
    expect(wantsSandbox({ PORT: "9000", RELAY_SECRET: "x" })).toBe(true);
    expect(wantsSandbox({ KINTONE_BASE_URL: "https://example.cybozu.com" })).toBe(false);
    expect(wantsSandbox({ NODE_ENV: "production" })).toBe(false);
    expect(wantsSandbox({ NODE_ENV: "development" })).toBe(true);
  });
});

describe("start-up with bad settings", () => {
  it("prints one line per problem and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-settings-"));
    try {
      const root = join(import.meta.dirname, "../..");
      const loader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
      const run = spawnSync(process.execPath, ["--import", loader, join(root, "relay/src/server.ts")], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", RELAY_SECRET: "x", KINTONE_BASE_URL: "https://example.cybozu.com" },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split("\n");
      expect(lines[0]).toContain("cannot start");
      expect(lines.slice(1).map((line) => line.trim().split(":")[0])).toEqual([
        "RELAY_SECRET",
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "KINTONE_API_TOKEN",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("npm start with NODE_ENV=production and no settings: no sandbox, each missing setting on its own line, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-settings-"));
    try {
      const root = join(import.meta.dirname, "../..");
      const loader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
      const run = spawnSync(process.execPath, ["--import", loader, join(root, "start.ts")], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", PORT: "0" },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(run.status).toBe(1);
      expect(run.stdout + run.stderr).not.toMatch(/sandbox/i);
      const lines = run.stderr.trim().split("\n");
      expect(lines[0]).toContain("cannot start");
      expect(lines.slice(1).map((line) => line.trim().split(":")[0])).toEqual([
        "RELAY_SECRET",
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "KINTONE_BASE_URL",
        "KINTONE_API_TOKEN",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
