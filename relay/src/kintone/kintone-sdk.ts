import type * as KintoneSdk from "@kintone/rest-api-client";

/**
 * @kintone/rest-api-client, loaded at the first call to kintone rather than at start-up: with
 * axios and form-data it is a large part of what a starting relay would compile, and the first
 * request a relay answers (a health check, LINE's webhook) calls no kintone API.
 */
let loading: Promise<typeof KintoneSdk> | undefined;
let loaded: typeof KintoneSdk | undefined;

export function loadKintoneSdk(): Promise<typeof KintoneSdk> {
  loading ??= import("@kintone/rest-api-client").then((sdk) => (loaded = sdk));
  return loading;
}

/**
 * The error as the SDK's KintoneRestAPIError, if it is one. Synchronous: such an error can only
 * come from a call made after the SDK was loaded.
 */
export function asKintoneRestApiError(error: unknown): KintoneSdk.KintoneRestAPIError | undefined {
  return loaded && error instanceof loaded.KintoneRestAPIError ? error : undefined;
}

/**
 * The SDK accepts http only for "localhost" (its validateBaseUrl); it used to refuse anything else
 * when the relay started. Kept at start-up, with the setting's name, now that the SDK loads later.
 */
export function checkKintoneSdkBaseUrl(baseUrl: string): void {
  const url = new URL(baseUrl);
  if (url.hostname !== "localhost" && url.protocol !== "https:") {
    throw new Error(`KINTONE_BASE_URL "${baseUrl}": the kintone REST API client takes http only for localhost; use https (or http://localhost)`);
  }
}
