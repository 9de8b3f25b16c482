import type { KintoneRestAPIClient } from "@kintone/rest-api-client";
import type { KintoneRecord } from "../../../common/kintone/record.js";
import { KintoneError } from "../kintone/kintone-client.js";
import { asKintoneRestApiError, loadKintoneSdk } from "../kintone/kintone-sdk.js";

/** Reads every record of an app matching a kintone query condition. */
export interface KintoneRecordQuery {
  findRecords(appId: string, condition: string, fields: string[]): Promise<KintoneRecord[]>;
}

/**
 * Paged by @kintone/rest-api-client's getAllRecords: without `orderBy` it reads 500 at a time with
 * `$id > last order by $id asc limit 500` (no offset limit, no cursor left open).
 */
export function createKintoneRecordQuery(options: { baseUrl: string; apiTokens: string[] }): KintoneRecordQuery {
  let made: Promise<KintoneRestAPIClient> | undefined;
  const sdkClient = () =>
    (made ??= loadKintoneSdk().then(({ KintoneRestAPIClient }) => new KintoneRestAPIClient({ baseUrl: options.baseUrl, auth: { apiToken: options.apiTokens } })));
  return {
    async findRecords(appId, condition, fields) {
      const client = await sdkClient();
      try {
        return (await client.record.getAllRecords({ app: appId, condition, fields })) as unknown as KintoneRecord[];
      } catch (error) {
        const sdkError = asKintoneRestApiError(error);
        if (sdkError) {
          throw new KintoneError(`kintone get records: ${sdkError.code} ${sdkError.message}`, sdkError.status, sdkError.code);
        }
        throw new KintoneError(`kintone get records: ${error instanceof Error ? error.message : String(error)}`, undefined, undefined);
      }
    },
  };
}
