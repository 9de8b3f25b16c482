import type { KintoneRestAPIClient } from "@kintone/rest-api-client";
import type { FieldProperties, KintoneRecord } from "../../../common/kintone/record.js";
import { KintoneError, type KintoneClient } from "./kintone-client.js";
import { asKintoneRestApiError, checkKintoneSdkBaseUrl, loadKintoneSdk } from "./kintone-sdk.js";

/**
 * The real client: @kintone/rest-api-client with the apps' API tokens. `onRequest` is told the
 * status of every request (relay_kintone_requests_total): kintone answers 200 to every success.
 */
export function createKintoneRestClient(options: { baseUrl: string; apiTokens: string[]; onRequest?: (status: string) => void }): KintoneClient {
  checkKintoneSdkBaseUrl(options.baseUrl);
  let made: Promise<KintoneRestAPIClient> | undefined;
  const sdkClient = () =>
    (made ??= loadKintoneSdk().then(({ KintoneRestAPIClient }) => new KintoneRestAPIClient({ baseUrl: options.baseUrl, auth: { apiToken: options.apiTokens } })));
  const counted = async <T>(run: (client: KintoneRestAPIClient) => Promise<T>): Promise<T> => {
    const client = await sdkClient();
    try {
      const result = await run(client);
      options.onRequest?.("200");
      return result;
    } catch (error) {
      options.onRequest?.(statusOf(error));
      throw error;
    }
  };
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toKintoneError(what, error);
    }
  };
  return {
    getRecord: (appId, recordId) =>
      call("get record", async () => (await counted((client) => client.record.getRecord({ app: appId, id: recordId }))).record as KintoneRecord),
    getFormFields: (appId) =>
      call(
        "get form fields",
        async () => (await counted((client) => client.app.getFormFields({ app: appId }))).properties as unknown as FieldProperties,
      ),
    updateRecord: (appId, recordId, record, revision) =>
      call("update record", () =>
        counted((client) => client.record.updateRecord({ app: appId, id: recordId, record, ...(revision ? { revision } : {}) })),
      ),
    addComment: (appId, recordId, text) =>
      call("add comment", () => counted((client) => client.record.addRecordComment({ app: appId, record: recordId, comment: { text } }))),
    getCommentsSince: (appId, recordId, since) =>
      call("get comments", async () => {
        const found: Array<{ id: string; text: string; createdAt: number }> = [];
        // Newest first, 10 a page (kintone's maximum), until a page reaches back before `since`.
        for (let offset = 0; ; offset += 10) {
          const page = await counted((client) => client.record.getRecordComments({ app: appId, record: recordId, order: "desc", offset, limit: 10 }));
          const comments = page.comments.map((comment) => ({ id: comment.id, text: comment.text, createdAt: Date.parse(comment.createdAt) }));
          found.push(...comments.filter((comment) => comment.createdAt >= since));
          if (!page.older || comments.some((comment) => comment.createdAt < since)) return found;
        }
      }),
  };
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3), capped at an hour. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const seconds = Number(value.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(60 * 60_000, Math.max(0, Math.round(ms)));
}

function statusOf(error: unknown): string {
  const status = asKintoneRestApiError(error)?.status ?? (error as { response?: { status?: unknown } }).response?.status;
  return typeof status === "number" ? String(status) : "network";
}

function toKintoneError(what: string, error: unknown): KintoneError {
  const sdkError = asKintoneRestApiError(error);
  if (sdkError) {
    const headers = sdkError.headers as Record<string, unknown> | undefined;
    const retryAfterMs = parseRetryAfter(headers?.["retry-after"]);
    return new KintoneError(`kintone ${what}: ${sdkError.code} ${sdkError.message}`, sdkError.status, sdkError.code, retryAfterMs);
  }
  const status = (error as { response?: { status?: number } }).response?.status;
  const message = error instanceof Error ? error.message : String(error);
  return new KintoneError(`kintone ${what}: ${message}`, typeof status === "number" ? status : undefined, undefined);
}
