import { z } from "zod";
import { asLanguage, type Language } from "../../common/i18n/relay-texts.js";
import { isValidTimeZone } from "../../common/kintone/date-time.js";
import { decodeTokenKey } from "./links/token-box.js";

/**
 * The relay's settings, read once from the environment (and `.env`) at start-up. Every problem
 * is reported on its own line (`NAME: what is wrong`) so an operator can fix them all at once.
 */

export type AccessTokenConfig =
  | { kind: "long-lived"; token: string }
  | { kind: "stateless"; channelId: string; channelSecret: string }
  | { kind: "v2.1"; channelId: string; keyFile: string; kid: string };

export interface RelaySettings {
  port: number;
  /** Bearer secrets for /v1: the current one first, then previous ones still accepted (rotation). */
  relaySecrets: string[];
  lineChannelSecret: string;
  lineAccessToken: AccessTokenConfig;
  lineApiBaseUrl: string;
  kintoneBaseUrl: string;
  kintoneApiTokens: string[];
  dataDir: string;
  timeZone: string;
  /** First key signs postback tokens; all keys verify (rotation). */
  signingKeys: string[];
  confirmTimeoutMs: number;
  replyDeadlineMs: number;
  /** RELAY_WELCOME_TEXT; absent: the welcome text of the catalogue in `language`. */
  welcomeText?: string;
  /** RELAY_LANGUAGE: replies where no rule set says (new friends, wrong codes); default "ja". */
  language?: Language;
  logLevel: "debug" | "info" | "warn" | "error";
  /** RELAY_GIVE_UP_AFTER_MS: work still failing this long after its first failure becomes a dead letter (default 24 h). */
  giveUpAfterMs?: number;
  /** RELAY_RETENTION_DAYS: finished rows older than this are pruned (default 30). */
  retentionDays?: number;
  /** The path token of `POST /kintone/webhook/{token}` (32+ characters); absent: that route answers 404. */
  kintoneWebhookToken?: string;
  /** RELAY_MONTHLY_PUSH_CAP: pushed messages per calendar month (in `timeZone`), one per recipient; absent: no cap. */
  monthlyPushCap?: number;
  /**
   * RELAY_DATABASE_URL (postgres://…): the relay keeps its state in PostgreSQL, so several
   * instances can share it; absent: the embedded SQLite database in `dataDir`.
   */
  databaseUrl?: string;
  /**
   * RELAY_JOB_LEASE_MS: how long a worker's claim on a job lasts without renewal (default 30 s). A
   * live worker renews it; when an instance dies, the others take its jobs over once it lapses.
   */
  jobLeaseMs?: number;
  /**
   * Connecting kintone users to LINE users (kintone OAuth + LINE account link), so the relay can
   * act as them; absent: no /connect routes, no `connect` command, nothing acts as a user.
   */
  userLinking?: UserLinkingSettings;
}

/** The OAuth settings, all of them or none (docs/approvals.md). */
export interface UserLinkingSettings {
  /** KINTONE_OAUTH_CLIENT_ID / _SECRET: the OAuth client the cybozu.com administrator added. */
  clientId: string;
  clientSecret: string;
  /** RELAY_PUBLIC_URL: where phones reach the relay; the redirect URI is `{publicUrl}/connect/kintone/callback`. */
  publicUrl: string;
  /** KINTONE_LINK_APP_ID: the app the relay adds a record to with the user's token, to learn who they are. */
  linkAppId: string;
  /** RELAY_TOKEN_KEY as given (so the logger can redact it); `decodeTokenKey` gives its 32 bytes. */
  tokenKey: string;
  /** LINE_ACCESS_BASE_URL: LINE's account-link page (default https://access.line.me). */
  lineAccessBaseUrl: string;
}

/** RFC 6750's b64token: what `Authorization: Bearer` may carry (Hono's bearerAuth refuses anything else). */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

export type SettingsResult = { ok: true; settings: RelaySettings } | { ok: false; problems: string[] };

const LINE_AND_KINTONE_KEYS = [
  "LINE_CHANNEL_SECRET",
  "LINE_CHANNEL_ACCESS_TOKEN",
  "LINE_CHANNEL_ID",
  "LINE_ASSERTION_KEY_FILE",
  "LINE_ASSERTION_KID",
  "KINTONE_BASE_URL",
  "KINTONE_API_TOKEN",
] as const;

/**
 * No LINE or kintone setting at all, outside production: `npm start` runs the sandbox (local
 * emulators) instead. With NODE_ENV=production never: missing settings stop start-up instead.
 */
export function wantsSandbox(env: NodeJS.ProcessEnv): boolean {
  if (env.NODE_ENV?.trim() === "production") return false;
  return LINE_AND_KINTONE_KEYS.every((key) => !env[key]?.trim());
}

/** Adds the settings of `.env` in the working directory to `process.env`, when there is one. */
export function loadDotEnv(file = ".env"): void {
  try {
    process.loadEnvFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}


function parseUrl(value: string, { httpsUnlessLocal }: { httpsUnlessLocal: boolean }): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && (local || !httpsUnlessLocal))) {
    throw new Error(`must use https (http is allowed only for localhost), got "${value}"`);
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function intSetting(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  { min, max }: { min: number; max: number },
  problems: string[],
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name}: must be a whole number from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

/**
 * RELAY_SECRET: the master secrets, current first (it issues app keys), then previous ones still
 * accepted. Each problem is pushed onto `problems`. Also read alone by `npm run app-key`.
 */
export function readRelaySecrets(env: NodeJS.ProcessEnv, problems: string[]): string[] {
  const relaySecrets = (env.RELAY_SECRET?.trim() ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter(Boolean);
  if (relaySecrets.length === 0) {
    problems.push("RELAY_SECRET: missing (the master secret: app keys are derived from it; comma-separated: current, then previous)");
  }
  relaySecrets.forEach((secret, index) => {
    const which = relaySecrets.length > 1 ? ` (secret ${index + 1} of ${relaySecrets.length})` : "";
    if (secret.length < 16) problems.push(`RELAY_SECRET: each secret must be at least 16 characters (use a long random string)${which}`);
    else if (!BEARER_TOKEN.test(secret)) {
      problems.push(`RELAY_SECRET: each secret may hold only letters, digits and - . _ ~ + / (what a Bearer header carries)${which}`);
    }
  });
  return relaySecrets;
}

export function readSettings(env: NodeJS.ProcessEnv): SettingsResult {
  const problems: string[] = [];
  const get = (name: string) => env[name]?.trim() || undefined;
  const required = (name: string, why: string): string => {
    const value = get(name);
    if (!value) problems.push(`${name}: missing (${why})`);
    return value ?? "";
  };

  const port = intSetting(env, "PORT", 8787, { min: 0, max: 65535 }, problems);

  const relaySecrets = readRelaySecrets(env, problems);

  const lineChannelSecret = required("LINE_CHANNEL_SECRET", "verifies LINE webhook signatures");

  let lineAccessToken: AccessTokenConfig = { kind: "long-lived", token: "" };
  const longLived = get("LINE_CHANNEL_ACCESS_TOKEN");
  const channelId = get("LINE_CHANNEL_ID");
  const keyFile = get("LINE_ASSERTION_KEY_FILE");
  const kid = get("LINE_ASSERTION_KID");
  if (longLived) {
    lineAccessToken = { kind: "long-lived", token: longLived };
    if (keyFile || kid) {
      problems.push(
        "LINE_ASSERTION_KEY_FILE: set together with LINE_CHANNEL_ACCESS_TOKEN; choose one kind of channel access token",
      );
    }
  } else if (channelId) {
    if (!/^\d{6,20}$/.test(channelId)) problems.push(`LINE_CHANNEL_ID: must be the numeric channel ID, got "${channelId}"`);
    if (keyFile || kid) {
      if (!keyFile) problems.push("LINE_ASSERTION_KEY_FILE: missing (LINE_ASSERTION_KID is set: v2.1 tokens need both)");
      if (!kid) problems.push("LINE_ASSERTION_KID: missing (LINE_ASSERTION_KEY_FILE is set: v2.1 tokens need both)");
      lineAccessToken = { kind: "v2.1", channelId, keyFile: keyFile ?? "", kid: kid ?? "" };
    } else {
      lineAccessToken = { kind: "stateless", channelId, channelSecret: lineChannelSecret };
    }
  } else {
    problems.push(
      "LINE_CHANNEL_ACCESS_TOKEN: missing (set it, or LINE_CHANNEL_ID for stateless tokens, or LINE_CHANNEL_ID + LINE_ASSERTION_KEY_FILE + LINE_ASSERTION_KID for v2.1 tokens)",
    );
  }

  let lineApiBaseUrl = "https://api.line.me";
  const lineApiRaw = get("LINE_API_BASE_URL");
  if (lineApiRaw) {
    try {
      lineApiBaseUrl = parseUrl(lineApiRaw, { httpsUnlessLocal: true });
    } catch (error) {
      problems.push(`LINE_API_BASE_URL: ${(error as Error).message}`);
    }
  }

  let kintoneBaseUrl = "";
  const kintoneRaw = required("KINTONE_BASE_URL", "e.g. https://example.cybozu.com");
  if (kintoneRaw) {
    try {
      kintoneBaseUrl = parseUrl(kintoneRaw, { httpsUnlessLocal: true });
    } catch (error) {
      problems.push(`KINTONE_BASE_URL: ${(error as Error).message}`);
    }
  }

  const tokenList = required("KINTONE_API_TOKEN", "API tokens of the apps, comma-separated")
    .split(",")
    .map((token) => token.trim())
    .filter(Boolean);
  if (get("KINTONE_API_TOKEN") && tokenList.some((token) => !/^[A-Za-z0-9]+$/.test(token))) {
    problems.push("KINTONE_API_TOKEN: each token must be letters and digits only, comma-separated");
  }

  const timeZone = get("RELAY_TIMEZONE") ?? "Asia/Tokyo";
  if (!isValidTimeZone(timeZone)) problems.push(`RELAY_TIMEZONE: "${timeZone}" is not an IANA time zone (e.g. Asia/Tokyo)`);

  const signingRaw = get("RELAY_SIGNING_KEY");
  const signingKeys = signingRaw ? signingRaw.split(",").map((key) => key.trim()).filter(Boolean) : [];
  if (signingKeys.some((key) => key.length < 32)) {
    problems.push("RELAY_SIGNING_KEY: each key must be at least 32 characters (comma-separated, newest first)");
  }

  const levelRaw = get("LOG_LEVEL") ?? "info";
  const level = z.enum(["debug", "info", "warn", "error"]).safeParse(levelRaw);
  if (!level.success) problems.push(`LOG_LEVEL: must be debug, info, warn or error, got "${levelRaw}"`);

  const confirmTimeoutMs = intSetting(env, "RELAY_CONFIRM_TIMEOUT_MS", 30_000, { min: 100, max: 600_000 }, problems);
  const replyDeadlineMs = intSetting(env, "RELAY_REPLY_DEADLINE_MS", 50_000, { min: 1_000, max: 60_000 }, problems);
  const giveUpAfterMs = intSetting(env, "RELAY_GIVE_UP_AFTER_MS", 24 * 60 * 60_000, { min: 1_000, max: 30 * 24 * 60 * 60_000 }, problems);
  const jobLeaseMs = intSetting(env, "RELAY_JOB_LEASE_MS", 30_000, { min: 1_000, max: 600_000 }, problems);
  const retentionDays = intSetting(env, "RELAY_RETENTION_DAYS", 30, { min: 1, max: 3650 }, problems);
  const monthlyPushCap = get("RELAY_MONTHLY_PUSH_CAP") ? intSetting(env, "RELAY_MONTHLY_PUSH_CAP", 0, { min: 0, max: 1_000_000_000 }, problems) : undefined;

  // kintone signs nothing: the path token is the webhook's only key (docs/kintone-webhook.md).
  const kintoneWebhookToken = get("KINTONE_WEBHOOK_TOKEN");
  if (kintoneWebhookToken !== undefined && !/^[A-Za-z0-9_-]{32,128}$/.test(kintoneWebhookToken)) {
    problems.push("KINTONE_WEBHOOK_TOKEN: must be 32 to 128 random letters, digits, '-' or '_' (it is part of the webhook URL)");
  }

  const databaseUrl = get("RELAY_DATABASE_URL");
  const databaseProblem = databaseUrl === undefined ? undefined : postgresUrlProblem(databaseUrl);
  if (databaseProblem) problems.push(`RELAY_DATABASE_URL: ${databaseProblem}`);

  const userLinking = readUserLinking(env, problems);

  const languageRaw = get("RELAY_LANGUAGE") ?? "ja";
  const relayLanguage = asLanguage(languageRaw) ?? "ja";
  if (!asLanguage(languageRaw)) problems.push(`RELAY_LANGUAGE: must be ja or en, got "${languageRaw}"`);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      port,
      relaySecrets,
      lineChannelSecret,
      lineAccessToken,
      lineApiBaseUrl,
      kintoneBaseUrl,
      kintoneApiTokens: tokenList,
      dataDir: get("RELAY_DATA_DIR") ?? "./data",
      timeZone,
      signingKeys,
      confirmTimeoutMs,
      replyDeadlineMs,
      ...(get("RELAY_WELCOME_TEXT") ? { welcomeText: get("RELAY_WELCOME_TEXT") } : {}),
      language: relayLanguage,
      logLevel: level.success ? level.data : "info",
      giveUpAfterMs,
      retentionDays,
      ...(kintoneWebhookToken ? { kintoneWebhookToken } : {}),
      ...(monthlyPushCap !== undefined ? { monthlyPushCap } : {}),
      ...(databaseUrl ? { databaseUrl } : {}),
      jobLeaseMs,
      ...(userLinking ? { userLinking } : {}),
    },
  };
}

const USER_LINKING_KEYS = ["KINTONE_OAUTH_CLIENT_ID", "KINTONE_OAUTH_CLIENT_SECRET", "RELAY_PUBLIC_URL", "KINTONE_LINK_APP_ID", "RELAY_TOKEN_KEY"] as const;

const USER_LINKING_WHY: Record<(typeof USER_LINKING_KEYS)[number], string> = {
  KINTONE_OAUTH_CLIENT_ID: "the OAuth client's ID from cybozu.com common administration",
  KINTONE_OAUTH_CLIENT_SECRET: "the OAuth client's secret from cybozu.com common administration",
  RELAY_PUBLIC_URL: "where phones reach the relay, e.g. https://relay.example.com",
  KINTONE_LINK_APP_ID: "the kintone app the relay adds a record to, to learn who connects",
  RELAY_TOKEN_KEY: "32 random bytes, base64 or hex: encrypts the stored kintone tokens",
};

/**
 * The OAuth settings that let kintone users connect their LINE account: none of them (the feature
 * is off), or all of them, else one line per missing one. Secrets are never echoed.
 */
function readUserLinking(env: NodeJS.ProcessEnv, problems: string[]): UserLinkingSettings | undefined {
  const get = (name: string) => env[name]?.trim() || undefined;
  const set = USER_LINKING_KEYS.filter((name) => get(name) !== undefined);
  let lineAccessBaseUrl = "https://access.line.me";
  const accessRaw = get("LINE_ACCESS_BASE_URL");
  if (accessRaw) {
    try {
      lineAccessBaseUrl = parseUrl(accessRaw, { httpsUnlessLocal: true });
    } catch (error) {
      problems.push(`LINE_ACCESS_BASE_URL: ${(error as Error).message}`);
    }
  }
  if (set.length === 0) return undefined;
  const before = problems.length;
  for (const name of USER_LINKING_KEYS) {
    if (!set.includes(name)) {
      problems.push(`${name}: missing (${USER_LINKING_WHY[name]}; connecting kintone users needs all of ${USER_LINKING_KEYS.join(", ")}: ${set.join(", ")} ${set.length === 1 ? "is" : "are"} set)`);
    }
  }
  const clientId = get("KINTONE_OAUTH_CLIENT_ID") ?? "";
  if (/\s/.test(clientId)) problems.push("KINTONE_OAUTH_CLIENT_ID: must not contain spaces (copy the client ID from cybozu.com common administration)");
  let publicUrl = "";
  const publicRaw = get("RELAY_PUBLIC_URL");
  if (publicRaw) {
    try {
      publicUrl = parseUrl(publicRaw, { httpsUnlessLocal: true });
      if (new URL(publicRaw).search !== "") problems.push("RELAY_PUBLIC_URL: must not have a query (?…): the relay adds its paths to it");
    } catch (error) {
      problems.push(`RELAY_PUBLIC_URL: ${(error as Error).message} (phones open it: kintone's redirect URI is {RELAY_PUBLIC_URL}/connect/kintone/callback)`);
    }
  }
  const linkAppId = get("KINTONE_LINK_APP_ID") ?? "";
  if (linkAppId && !/^[1-9][0-9]*$/.test(linkAppId)) problems.push(`KINTONE_LINK_APP_ID: must be the app's number (the ID in its URL /k/<ID>/), got "${linkAppId}"`);
  const tokenKey = get("RELAY_TOKEN_KEY") ?? "";
  if (tokenKey && !decodeTokenKey(tokenKey)) {
    // Never echoed: it is the key.
    problems.push("RELAY_TOKEN_KEY: must be 32 random bytes written as 64 hex digits or as base64 (e.g. the output of `openssl rand -base64 32`)");
  }
  if (problems.length > before) return undefined;
  return { clientId, clientSecret: get("KINTONE_OAUTH_CLIENT_SECRET") ?? "", publicUrl, linkAppId, tokenKey, lineAccessBaseUrl };
}

/** Why a RELAY_DATABASE_URL cannot be used (never echoing it: it may hold a password), or undefined. */
function postgresUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    // Cloud SQL's socket form, postgres://user:pass@/db?host=/cloudsql/…, names no host before the
    // path; the driver reads it, WHATWG URL does not: checked as if a host were there.
    const socketForm = /^postgres(?:ql)?:\/\/[^/@]*@\//.test(raw);
    url = new URL(socketForm ? raw.replace("@/", "@socket/") : raw);
    if (socketForm && !url.searchParams.get("host")) return "names no host; expected postgres://user:password@host:5432/database";
  } catch {
    return "is not a URL; expected postgres://user:password@host:5432/database";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    return `must start with postgres:// or postgresql:// (got ${url.protocol}//…); without it the relay uses SQLite in RELAY_DATA_DIR`;
  }
  if (!url.hostname && !url.searchParams.get("host")) return "names no host; expected postgres://user:password@host:5432/database";
  if (url.pathname.replace(/^\//, "") === "") return "names no database; expected postgres://user:password@host:5432/database";
  return undefined;
}
