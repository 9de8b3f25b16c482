import { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "../clock.js";
import { HttpError } from "../http/http-error.js";
import { limitBody } from "../http/body-limit.js";
import { requireAppAccess } from "../http/principal.js";
import { readJsonBody } from "../http/read-json-body.js";
import type { FieldProperties } from "../../../common/kintone/record.js";
import type { RelayStore } from "../store/relay-store.js";
import { displayLinkCode, LINK_CODE_TTL_MS, newLinkCode } from "./link-codes.js";

const kintoneId = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]{0,17}$/, "must be a positive whole number")])
  .transform(String);
const requestSchema = z.looseObject({ appId: kintoneId, recordId: kintoneId, field: z.string().min(1).max(128) });

const LINKABLE_TYPES = new Set(["SINGLE_LINE_TEXT", "MULTI_LINE_TEXT"]);

/**
 * `POST /v1/link-codes {appId, recordId, field}` (bearer auth by the app) -> 201 {code, expiresAt}.
 * The field must be a text field of the app: checked now, so staff learn of a wrong field here
 * and not from a customer.
 */
export function linkCodesRoute(deps: { store: RelayStore; clock: Clock; formFields: { get(appId: string): Promise<FieldProperties> } }) {
  return new Hono().post("/", limitBody(16 * 1024), async (c) => {
    const { json } = await readJsonBody(c);
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) {
      const details = parsed.error.issues.map((issue) => ({ path: issue.path.join(".") || "(body)", message: issue.message }));
      throw new HttpError(400, "invalid_request", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
    }
    const { appId, recordId, field } = parsed.data;
    requireAppAccess(c, appId);
    let fields: FieldProperties;
    try {
      fields = await deps.formFields.get(appId);
    } catch (error) {
      throw new HttpError(503, "kintone_unavailable", `could not read app ${appId}'s fields from kintone: ${(error as Error).message}`);
    }
    const property = fields[field];
    if (!property || !LINKABLE_TYPES.has(property.type)) {
      throw new HttpError(
        400,
        "invalid_request",
        `field: "${field}" must be a single- or multi-line text field of app ${appId}${property ? ` (it is ${property.type})` : " (no such field)"}`,
        [{ path: "field", message: property ? `is ${property.type}, not a text field` : "no such field in the app" }],
      );
    }
    const now = deps.clock.now();
    const code = newLinkCode();
    await deps.store.createLinkCode({ code, appId, recordId, field, createdAt: now, expiresAt: now + LINK_CODE_TTL_MS });
    return c.json({ code: displayLinkCode(code), expiresAt: new Date(now + LINK_CODE_TTL_MS).toISOString() }, 201);
  });
}

/**
 * `GET /v1/groups`: groups and rooms the bot is in, so an admin can use their IDs as fixed
 * recipients. Open to app keys too: the list belongs to the LINE channel every app shares (the
 * bot's groups), not to an app; it names no app, record or delivery, so one app learns nothing
 * about another from it.
 */
export function groupsRoute(deps: { store: RelayStore }) {
  return new Hono().get("/", async (c) => {
    const groups = await deps.store.listGroups();
    return c.json({
      groups: groups.map((g) => ({ id: g.groupId, kind: g.kind, state: g.state, since: new Date(g.changedAt).toISOString() })),
    });
  });
}
