import { randomBytes } from "node:crypto";

/**
 * kintone's error answers: `{code, id, message}` plus `errors` for validation failures.
 *
 * Codes, statuses and messages are kintone's own where a public source shows them (cybozu.dev /
 * kintone.dev, and kintone's cli-kintone end-to-end tests, which run against real kintone).
 * Messages are the English ones kintone sends when the request has no `Accept-Language: ja`.
 * Where a message was only available in Japanese it is translated (marked below). Validation
 * texts no public source shows (bad dates and times, read-only fields, bad parameters) are the
 * emulator's own wording: match on `code` and on the `errors` keys, not on message text.
 */

/** `errors` of a CB_VA01 answer: "record.<code>.value" -> messages. */
export type ValidationErrors = Record<string, { messages: string[] }>;

export interface KintoneErrorBody {
  code: string;
  id: string;
  message: string;
  errors?: ValidationErrors;
}

/** The language of an error answer. */
export type Locale = "en" | "ja";

/** A message in both languages kintone answers in. */
export interface LocalizedText {
  en: string;
  ja: string;
}

/**
 * kintone answers in the user's language; for a user set to follow the browser and for API
 * tokens that is the request's `Accept-Language`: Japanese for `ja`, English otherwise, also with
 * no header (a real-tenant recording: SonicGarden/kintone-emulator docs/real-kintone-notes.md,
 * "Accept-Language 依存"). The first language of the header decides.
 */
export function localeOf(acceptLanguage: string | undefined): Locale {
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.tag !== "" && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  const first = ranked[0]?.tag ?? "";
  return first === "ja" || first.startsWith("ja-") ? "ja" : "en";
}

/**
 * Japanese for the validation texts of `errors`. Only "Required field." / 「必須です。」 is from the
 * real-tenant recording above; the others are the emulator's wording.
 */
const VALIDATION_JA: Record<string, string> = {
  "Required field.": "必須です。",
  "Enter an integer value.": "整数で入力してください。",
  "This field cannot be updated.": "このフィールドは更新できません。",
  "must be one of the enum value": "列挙値のいずれかを指定してください。",
};

/** An answer the emulator gives instead of a result; turned into HTTP in one place (kintone-app.ts). */
export class KintoneApiError extends Error {
  override readonly name = "KintoneApiError";
  readonly text: LocalizedText;

  /** `text` goes into the body in the request's language; `message` is English and carries the details. */
  constructor(
    readonly status: number,
    readonly code: string,
    text: LocalizedText | string,
    readonly errors?: ValidationErrors,
    readonly headers?: Record<string, string>,
  ) {
    const localized = typeof text === "string" ? { en: text, ja: text } : text;
    super(errors ? `[${code}] ${localized.en} ${JSON.stringify(errors)}` : `[${code}] ${localized.en}`);
    this.text = localized;
  }

  /** The English body message (what kintone sends without `Accept-Language: ja`). */
  get kintoneMessage(): string {
    return this.text.en;
  }

  toBody(locale: Locale = "en"): KintoneErrorBody {
    return {
      code: this.code,
      id: newErrorId(),
      message: this.text[locale],
      ...(this.errors ? { errors: locale === "ja" ? translateErrors(this.errors) : this.errors } : {}),
    };
  }

  /** The same error with its validation keys under `prefix` ("records[2]."), for the bulk APIs. */
  withErrorPrefix(prefix: string): KintoneApiError {
    if (!this.errors) return this;
    const errors = Object.fromEntries(Object.entries(this.errors).map(([key, value]) => [prefix + key, value]));
    return new KintoneApiError(this.status, this.code, this.text, errors, this.headers);
  }
}

function translateErrors(errors: ValidationErrors): ValidationErrors {
  return Object.fromEntries(
    Object.entries(errors).map(([key, { messages }]) => [key, { messages: messages.map((m) => VALIDATION_JA[m] ?? m) }]),
  );
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** kintone error ids are 20 random alphanumerics ("MJkW0PkiEJ3HhuPRkl3H"). */
export function newErrorId(): string {
  return Array.from(randomBytes(20), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
}

// --- Authentication and permissions ---------------------------------------------------------
// Japanese texts marked (emulator) are the emulator's wording where no public source shows kintone's.

/** No credentials at all. */
export const loginRequired = () =>
  new KintoneApiError(401, "CB_AU01", { en: "Please login.", ja: "ログインしてください。" });

/** A token that no app issued (also when one of several tokens is unknown). Japanese: (emulator). */
export const apiTokenUnknown = () =>
  new KintoneApiError(400, "GAIA_IA02", {
    en: "The specified API token does not match the API token generated via an app.",
    ja: "指定したAPIトークンが、アプリで生成したAPIトークンと一致しません。",
  });

/** Japanese: (emulator). */
export const apiTokenDuplicate = () =>
  new KintoneApiError(400, "GAIA_DA03", {
    en: "You cannot specify a duplicate API token for the same app.",
    ja: "同じアプリのAPIトークンを重複して指定することはできません。",
  });

/**
 * Valid tokens, none of them issued by the requested app. Code from third-party reports of real
 * answers; status UNCONFIRMED (403 assumed); message as kintone.dev's API token page quotes it.
 * Japanese: (emulator).
 */
export const apiTokenWrongApp = () =>
  new KintoneApiError(403, "GAIA_AP15", {
    en: "The API token does not match the app.",
    ja: "APIトークンがアプリと一致しません。",
  });

/** The app's token lacks the permission the API needs (view / add / edit / delete). */
export const apiTokenNoPermission = () =>
  new KintoneApiError(403, "GAIA_NO01", {
    en: "Using this API token, you cannot run the specified API.",
    ja: "このAPIトークンでは、指定したAPIを実行できません。",
  });

/**
 * A user's request the user may not make (kintone's permission refusal for user authentication;
 * cli-kintone's end-to-end tests show `[403] [CB_NO02] No privilege to proceed.` from real kintone).
 * Japanese as third-party clients list it (「権限がありません。」).
 */
export const noPrivilege = () =>
  new KintoneApiError(403, "CB_NO02", { en: "No privilege to proceed.", ja: "権限がありません。" });

// --- OAuth (Authorization: Bearer) ----------------------------------------------------------------
// cybozu.dev documents no error page for OAuth; both answers are what public clients recorded from
// real kintone: an expired or revoked access token gives
// `401 {"code":"CB_OA01","message":"Cannot access protected resource."}`, a token without the API's
// scope `403 CB_OA01 Cannot access protected resource` (the scope is fixed when the token is issued).
// kintone sends the same English text whatever the language; no Japanese has been seen (UNCONFIRMED).

const PROTECTED_RESOURCE = "Cannot access protected resource.";

/** An access token that is unknown, expired or revoked. */
export const oauthTokenRejected = () =>
  new KintoneApiError(401, "CB_OA01", { en: PROTECTED_RESOURCE, ja: PROTECTED_RESOURCE });

/** A valid access token whose scopes do not include what the API needs. */
export const oauthScopeMissing = () =>
  new KintoneApiError(403, "CB_OA01", { en: PROTECTED_RESOURCE, ja: PROTECTED_RESOURCE });

// --- Limits -------------------------------------------------------------------------------------

/**
 * kintone REST API concurrency limit: 100 per domain
 * (https://kintone.dev/en/tutorials/development-productivity/how-to-avoid-kintone-rest-api-limits).
 * Every answer carries X-ConcurrencyLimit-Limit / -Running (added in the November 2017 update:
 * https://cybozu.dev/ja/kintone/miscellaneous/archive-tips/limit-processing-by-kintone-rest-api-concurrent-connections;
 * header names as the REST API common-spec page lists them, "必ず100が返ります").
 */
export const CONCURRENCY_LIMIT = 100;

/**
 * The 101st concurrent request of a domain. HTTP 429 is documented
 * (https://cybozu.dev/ja/kintone/tips/development/customize/columns/concurrent-connection-limit-reason:
 * "同時接続数が100を超えると、REST APIの実行時にHTTPステータスコード429のレスポンスが返ってきます").
 * Code GAIA_TO04, the X-Cybozu-Error header and both texts: UNCONFIRMED (no cybozu.dev page
 * shows them; taken from another team's real-tenant recording, SonicGarden/kintone-emulator).
 */
export const tooManyConcurrentRequests = (running: number) =>
  new KintoneApiError(
    429,
    "GAIA_TO04",
    {
      en: "The number of concurrent API requests exceeds the limit.",
      ja: "APIの同時リクエスト数が上限を超えています。",
    },
    undefined,
    {
      "x-cybozu-error": "GAIA_TO04",
      "x-concurrencylimit-limit": String(CONCURRENCY_LIMIT),
      "x-concurrencylimit-running": String(running),
    },
  );

// --- Not found --------------------------------------------------------------------------------

export const appNotFound = (appId: number | string) =>
  new KintoneApiError(404, "GAIA_AP01", {
    en: `The app (ID: ${appId}) not found. The app may have been deleted.`,
    ja: `指定したアプリ（id: ${appId}）が見つかりません。削除されている可能性があります。`,
  });

export const recordNotFound = (recordId: number | string) =>
  new KintoneApiError(404, "GAIA_RE01", {
    en: `The specified record (ID: ${recordId}) is not found.`,
    ja: `指定したレコード（id: ${recordId}）が見つかりません。`,
  });

/** A field code the app does not have. Code from real answers to form APIs; UNCONFIRMED for records. */
export const fieldNotFound = (code: string) =>
  new KintoneApiError(400, "GAIA_FC01", {
    en: `The field (code: ${code}) not found.`,
    ja: `指定したフィールド（code: ${code}）が見つかりません。`,
  });

// --- Request content --------------------------------------------------------------------------

/** Both texts from the real-tenant recording ("Missing or invalid input." / 「入力内容が正しくありません。」). */
export const invalidInput = (errors: ValidationErrors) =>
  new KintoneApiError(400, "CB_VA01", { en: "Missing or invalid input.", ja: "入力内容が正しくありません。" }, errors);

/** Body that is not JSON, or a field value of the wrong JSON shape (a string for a CHECK_BOX). Japanese: (emulator). */
export const invalidJson = () =>
  new KintoneApiError(400, "CB_IJ01", { en: "Invalid JSON string.", ja: "不正なJSON文字列です。" });

/** GAIA_CO02, 409 (cybozu.dev "1件のレコードを更新する": revision が一致しない場合はエラー). English is a translation. */
export const revisionConflict = () =>
  new KintoneApiError(409, "GAIA_CO02", {
    en: "The specified revision is not the latest. Someone may have updated the record.",
    ja: "指定したrevisionは最新ではありません。ほかのユーザーがレコードを更新した可能性があります。",
  });

// --- Process management -----------------------------------------------------------------------
// Texts of GAIA_ST02 and GAIA_IL03 from the real-tenant recording; GAIA_NT01 and GAIA_SA01 from
// the recorded answers in the tests of kintone's former Node SDK (kintone/kintone-nodejs-sdk).

export const processManagementDisabled = () =>
  new KintoneApiError(400, "GAIA_ST02", {
    en: "Your request failed. The process management feature has been disabled.",
    ja: "操作に失敗しました。プロセス管理機能が無効化されています。",
  });

/**
 * The action does not exist or cannot run from the record's current status. An unknown action name
 * gets this code too: kintone's former Node SDK recorded it for the action "Error_status".
 */
export const statusActionRejected = () =>
  new KintoneApiError(400, "GAIA_IL03", {
    en: "Failed to update the status. The settings or the status itself may have been changed by someone.",
    ja: "ステータスの変更に失敗しました。ほかのユーザーがステータス、またはステータスの設定を変更した可能性があります。",
  });

/**
 * The record has assignees and the caller is not one of them; with an API token the caller is
 * "Administrator" (https://cybozu.dev/ja/kintone/docs/rest-api/records/update-status/, 必要なアクセス権:
 * "レコードに作業者が指定されていない、または「Administrator」がレコードの作業者に指定されている").
 * HTTP status UNCONFIRMED (400 assumed, as kintone's other GAIA_ refusals).
 */
export const notAssignee = () =>
  new KintoneApiError(400, "GAIA_NT01", {
    en: "Only Assignee can change the status.",
    ja: "作業者のみがステータスを変更できます",
  });

/**
 * The next status picks one of several users and `assignee` names none of them (cybozu.dev
 * update-status: assignee 条件必須 "変更先のステータスの作業者が「次のユーザーから作業者を選択」...").
 */
export const assigneeRequired = () =>
  new KintoneApiError(400, "GAIA_SA01", { en: "Assignee is required.", ja: "作業者を指定してください。" });

// --- Emulator-only ----------------------------------------------------------------------------

/** A path the emulator does not implement. Not a kintone code: it should never be mistaken for one. */
export const notEmulated = (method: string, path: string) =>
  new KintoneApiError(404, "EMULATOR_NOT_IMPLEMENTED", `The kintone emulator does not implement ${method} ${path}.`);

/** A request form or parameter the emulator does not implement (e.g. updateKey). */
export const featureNotEmulated = (what: string) =>
  new KintoneApiError(400, "EMULATOR_NOT_IMPLEMENTED", `The kintone emulator does not implement ${what}.`);
