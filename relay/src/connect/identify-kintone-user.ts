import { KintoneError } from "../kintone/kintone-client.js";
import { asKintoneRestApiError, loadKintoneSdk } from "../kintone/kintone-sdk.js";

/**
 * Who an OAuth access token belongs to. kintone has no "who am I" endpoint, but it sets a new
 * record's creator to the user whose token adds it (setting the creator needs app management
 * rights the relay does not ask for): the relay adds a record to KINTONE_LINK_APP_ID with the
 * token and reads it back. The record also leaves a trace in kintone of who connected which
 * LINE user, and when.
 */
export const LINK_APP_FIELDS = {
  /** Single-line text: the LINE user ID that asked to connect. */
  lineUserId: "line_user_id",
  /** Date and time: when the relay added the record. */
  connectedAt: "connected_at",
} as const;

export interface KintoneIdentity {
  code: string;
  name: string;
  /** The record added to the link app. */
  recordId: string;
}

export async function identifyKintoneUser(options: {
  baseUrl: string;
  accessToken: string;
  linkAppId: string;
  lineUserId: string;
  now: number;
}): Promise<KintoneIdentity> {
  const { KintoneRestAPIClient } = await loadKintoneSdk();
  const client = new KintoneRestAPIClient({ baseUrl: options.baseUrl, auth: { oAuthToken: options.accessToken } });
  try {
    const { id } = await client.record.addRecord({
      app: options.linkAppId,
      record: {
        [LINK_APP_FIELDS.lineUserId]: { value: options.lineUserId },
        // kintone takes date-times in UTC, to the minute or second: "2025-01-15T00:00:00Z".
        [LINK_APP_FIELDS.connectedAt]: { value: new Date(options.now).toISOString().replace(/\.\d{3}Z$/, "Z") },
      },
    });
    const { record } = await client.record.getRecord({ app: options.linkAppId, id });
    // By type, not by code: the creator field's code follows the language the app was made in (CREATOR, 作成者).
    const creator = Object.values(record).find((field) => field.type === "CREATOR")?.value as { code?: unknown; name?: unknown } | undefined;
    if (typeof creator?.code !== "string" || creator.code === "") {
      throw new KintoneError(`kintone link app ${options.linkAppId}: record ${id} has no creator`, 502, undefined);
    }
    return { code: creator.code, name: typeof creator.name === "string" && creator.name !== "" ? creator.name : creator.code, recordId: id };
  } catch (error) {
    if (error instanceof KintoneError) throw error;
    const sdkError = asKintoneRestApiError(error);
    if (sdkError) {
      throw new KintoneError(`kintone link app ${options.linkAppId}: ${sdkError.code} ${sdkError.message}`, sdkError.status, sdkError.code);
    }
    const status = (error as { response?: { status?: unknown } } | null)?.response?.status;
    throw new KintoneError(`kintone link app ${options.linkAppId}: ${(error as Error).message}`, typeof status === "number" ? status : undefined, undefined);
  }
}
