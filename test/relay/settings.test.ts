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
    // Cloud SQL's Unix socket form (docs/production.md): no host before the path, the socket in ?host=.
    const cloudSql = "postgres://relay:s3cret@/relay?host=/cloudsql/project:asia-northeast1:relay-db";
    expect(readSettings({ ...valid, RELAY_DATABASE_URL: cloudSql })).toEqual({ ok: true, settings: expect.objectContaining({ databaseUrl: cloudSql }) });
    expect(readSettings({ ...valid, RELAY_DATABASE_URL: "postgres://relay:s3cret@/relay" })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^RELAY_DATABASE_URL: names no host/)],
    });
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

describe("readSettings: connecting kintone users (OAuth)", () => {
  const oauth = {
    KINTONE_OAUTH_CLIENT_ID: "l.1.abcdef",
    KINTONE_OAUTH_CLIENT_SECRET: "client-secret-never-echoed",
    RELAY_PUBLIC_URL: "https://relay.example.com/",
    KINTONE_LINK_APP_ID: "42",
    RELAY_TOKEN_KEY: "q".repeat(43) + "=",
  };

  it("is off without any of its settings, and on with all of them", () => {
    const off = readSettings(valid);
    expect(off.ok && off.settings.userLinking).toBeUndefined();
    const on = readSettings({ ...valid, ...oauth });
    expect(on.ok && on.settings.userLinking).toEqual({
      clientId: "l.1.abcdef",
      clientSecret: "client-secret-never-echoed",
      publicUrl: "https://relay.example.com",
      linkAppId: "42",
      tokenKey: oauth.RELAY_TOKEN_KEY,
      lineAccessBaseUrl: "https://access.line.me",
    });
    const hex = readSettings({ ...valid, ...oauth, RELAY_TOKEN_KEY: "0f".repeat(32), RELAY_PUBLIC_URL: "http://127.0.0.1:8787", LINE_ACCESS_BASE_URL: "http://localhost:9000" });
    expect(hex.ok && hex.settings.userLinking).toMatchObject({ publicUrl: "http://127.0.0.1:8787", lineAccessBaseUrl: "http://localhost:9000" });
  });

  it("names each missing one when only some are set", () => {
    const result = readSettings({ ...valid, KINTONE_OAUTH_CLIENT_ID: "l.1.abcdef", RELAY_PUBLIC_URL: "https://relay.example.com" });
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((problem) => problem.split(":")[0])).toEqual(["KINTONE_OAUTH_CLIENT_SECRET", "KINTONE_LINK_APP_ID", "RELAY_TOKEN_KEY"]);
    expect(problems[0]).toMatch(/KINTONE_OAUTH_CLIENT_ID, RELAY_PUBLIC_URL are set/);
  });

  it("refuses a bad value in one line each, never echoing the secret or the key", () => {
    const badKey = "not-32-bytes-" + "z".repeat(10);
    const result = readSettings({
      ...valid,
      ...oauth,
      RELAY_PUBLIC_URL: "http://relay.example.com",
      KINTONE_LINK_APP_ID: "app-7",
      RELAY_TOKEN_KEY: badKey,
      LINE_ACCESS_BASE_URL: "ftp://access.line.me",
    });
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([
      expect.stringMatching(/^LINE_ACCESS_BASE_URL: must use https/),
      expect.stringMatching(/^RELAY_PUBLIC_URL: must use https .*connect\/kintone\/callback/),
      'KINTONE_LINK_APP_ID: must be the app\'s number (the ID in its URL /k/<ID>/), got "app-7"',
      expect.stringMatching(/^RELAY_TOKEN_KEY: must be 32 random bytes/),
    ]);
    expect(problems.join("\n")).not.toContain(badKey);
    expect(problems.join("\n")).not.toContain(oauth.KINTONE_OAUTH_CLIENT_SECRET);
    // 31 bytes of base64 is not a key either.
    const short = readSettings({ ...valid, ...oauth, RELAY_TOKEN_KEY: Buffer.alloc(31, 7).toString("base64") });
    expect(short.ok).toBe(false);
  });
});
