import type { Context } from "hono";
import { HttpError } from "../http/http-error.js";
import { requireAppAccess } from "../http/principal.js";

/** kintone app IDs are positive whole numbers. */
const APP_ID = /^[1-9][0-9]{0,17}$/;

/** The `:appId` of a `/v1/apps/{appId}/...` route, checked against the bearer before anything is read. */
export function appIdOfPath(c: Context): string {
  const appId = c.req.param("appId") ?? "";
  if (!APP_ID.test(appId)) throw new HttpError(400, "invalid_request", "appId must be a positive whole number");
  requireAppAccess(c, appId);
  return appId;
}
