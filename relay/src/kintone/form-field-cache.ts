import type { FieldProperties } from "../../../common/kintone/record.js";
import type { Clock } from "../clock.js";
import type { KintoneClient } from "./kintone-client.js";

/** Field labels change rarely; one form-fields call per app per `ttlMs` is plenty. */
export function createFormFieldCache(kintone: KintoneClient, clock: Clock, ttlMs = 5 * 60_000) {
  const cache = new Map<string, { at: number; fields: Promise<FieldProperties> }>();
  return {
    get(appId: string): Promise<FieldProperties> {
      const hit = cache.get(appId);
      if (hit && clock.now() - hit.at < ttlMs) return hit.fields;
      const fields = kintone.getFormFields(appId);
      cache.set(appId, { at: clock.now(), fields });
      fields.catch(() => cache.delete(appId));
      return fields;
    },
  };
}
