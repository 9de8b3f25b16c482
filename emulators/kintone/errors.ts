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

/** An answer the emulator gives instead of a result; turned into HTTP in one place (kintone-app.ts). */
export class KintoneApiError extends Error {
  override readonly name = "KintoneApiError";

  /** `kintoneMessage` goes into the body; `message` also carries the validation details. */
  constructor(
    readonly status: number,
    readonly code: string,
    readonly kintoneMessage: string,
    readonly errors?: ValidationErrors,
    readonly headers?: Record<string, string>,
  ) {
    super(errors ? `[${code}] ${kintoneMessage} ${JSON.stringify(errors)}` : `[${code}] ${kintoneMessage}`);
  }

  toBody(): KintoneErrorBody {
    return {
      code: this.code,
      id: newErrorId(),
      message: this.kintoneMessage,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** kintone error ids are 20 random alphanumerics ("MJkW0PkiEJ3HhuPRkl3H"). */
export function newErrorId(): string {
  return Array.from(randomBytes(20), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
}

// --- Authentication and permissions ---------------------------------------------------------

/** No credentials at all. */
export const loginRequired = () => new KintoneApiError(401, "CB_AU01", "Please login.");

/** A token that no app issued (also when one of several tokens is unknown). */
export const apiTokenUnknown = () =>
  new KintoneApiError(
    400,
    "GAIA_IA02",
    "The specified API token does not match the API token generated via an app.",
  );

export const apiTokenDuplicate = () =>
  new KintoneApiError(400, "GAIA_DA03", "You cannot specify a duplicate API token for the same app.");

/**
 * Valid tokens, none of them issued by the requested app. Code from third-party reports of real
 * answers; status UNCONFIRMED (403 assumed); message as kintone.dev's API token page quotes it.
 */
export const apiTokenWrongApp = () =>
  new KintoneApiError(403, "GAIA_AP15", "The API token does not match the app.");

/** The app's token lacks the permission the API needs (view / add / edit). */
export const apiTokenNoPermission = () =>
  new KintoneApiError(403, "GAIA_NO01", "Using this API token, you cannot run the specified API.");

// --- Not found --------------------------------------------------------------------------------

export const appNotFound = (appId: number | string) =>
  new KintoneApiError(404, "GAIA_AP01", `The app (ID: ${appId}) not found. The app may have been deleted.`);

export const recordNotFound = (recordId: number | string) =>
  new KintoneApiError(404, "GAIA_RE01", `The specified record (ID: ${recordId}) is not found.`);

/** A field code the app does not have. Code from real answers to form APIs; UNCONFIRMED for records. */
export const fieldNotFound = (code: string) =>
  new KintoneApiError(400, "GAIA_FC01", `The field (code: ${code}) not found.`);

// --- Request content --------------------------------------------------------------------------

export const invalidInput = (errors: ValidationErrors) =>
  new KintoneApiError(400, "CB_VA01", "Missing or invalid input.", errors);

/** Body that is not JSON, or a field value of the wrong JSON shape (a string for a CHECK_BOX). */
export const invalidJson = () => new KintoneApiError(400, "CB_IJ01", "Invalid JSON string.");

/** English translation of "指定したrevisionは最新ではありません。ほかのユーザーがレコードを更新した可能性があります。" */
export const revisionConflict = () =>
  new KintoneApiError(
    409,
    "GAIA_CO02",
    "The specified revision is not the latest. Someone may have updated the record.",
  );

// --- Process management -----------------------------------------------------------------------

export const processManagementDisabled = () =>
  new KintoneApiError(400, "GAIA_ST02", "Your request failed. The process management feature has been disabled.");

/** The action does not exist or cannot run from the record's current status. */
export const statusActionRejected = () =>
  new KintoneApiError(
    400,
    "GAIA_IL03",
    "Failed to update the status. The settings or the status itself may have been changed by someone.",
  );

// --- Emulator-only ----------------------------------------------------------------------------

/** A path the emulator does not implement. Not a kintone code: it should never be mistaken for one. */
export const notEmulated = (method: string, path: string) =>
  new KintoneApiError(404, "EMULATOR_NOT_IMPLEMENTED", `The kintone emulator does not implement ${method} ${path}.`);
