import { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "../clock.js";
import { HttpError } from "../http/http-error.js";
import { limitBody } from "../http/body-limit.js";
import { requireAppAccess } from "../http/principal.js";
import { readJsonBody } from "../http/read-json-body.js";
import type { FieldProperties } from "../../../common/kintone/record.js";
import type { GroupSummaryClient } from "../line/group-summary-client.js";
import type { Logger } from "../logger.js";
import type { GroupRow, RelayStore } from "../store/relay-store.js";
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

/** At most this many groups are named per GET /v1/groups; the rest on the next. */
const LAZY_LOOKUPS = 10;
/** A group LINE could not name is asked again only after this long. */
const LOOKUP_AGAIN_AFTER_MS = 5 * 60_000;
/** The list is answered after this long even when lookups are still running (they go on and store what they learn). */
const LOOKUP_WAIT_MS = 3_000;

/**
 * `GET /v1/groups`: groups and rooms the bot is in, so an admin can pick them by name as fixed
 * recipients or for a test message: `{groups: [{id, kind, state, name?, joinedAt?, since}]}`
 * (`joinedAt` while joined; `since`: when the state began). Open to app keys too: the list belongs
 * to the LINE channel every app shares (the bot's groups), not to an app; it names no app, record
 * or delivery, so one app learns nothing about another from it.
 *
 * Names come from LINE's group summary when the bot joins; a joined group still without one (it
 * joined before names were kept, or the lookup failed) is looked up here, stored, and not asked
 * again for a while when LINE cannot name it. Rooms have no name.
 */
export function groupsRoute(deps: { store: RelayStore; clock: Clock; groupSummaries?: GroupSummaryClient; logger?: Logger }) {
  const askedAt = new Map<string, number>();

  const nameUnnamed = async (groups: GroupRow[]): Promise<Map<string, string>> => {
    const names = new Map<string, string>();
    const summaries = deps.groupSummaries;
    if (!summaries) return names;
    const now = deps.clock.now();
    for (const [id, at] of askedAt) if (now - at >= LOOKUP_AGAIN_AFTER_MS) askedAt.delete(id);
    const unnamed = groups.filter((g) => g.kind === "group" && g.state === "joined" && g.name === undefined && !askedAt.has(g.groupId)).slice(0, LAZY_LOOKUPS);
    const lookups = unnamed.map(async (group) => {
      askedAt.set(group.groupId, now);
      try {
        const name = await summaries.groupName(group.groupId);
        if (name === undefined) return;
        await deps.store.setGroupName(group.groupId, name);
        askedAt.delete(group.groupId);
        names.set(group.groupId, name);
      } catch (error) {
        deps.logger?.warn("group name not available", { group: group.groupId, error: (error as Error).message });
      }
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(lookups), new Promise((resolve) => (timer = setTimeout(resolve, LOOKUP_WAIT_MS)))]);
    clearTimeout(timer);
    return new Map(names);
  };

  return new Hono().get("/", async (c) => {
    const groups = await deps.store.listGroups();
    const learned = await nameUnnamed(groups);
    return c.json({
      groups: groups.map((g) => {
        const name = g.name ?? learned.get(g.groupId);
        const since = new Date(g.changedAt).toISOString();
        return { id: g.groupId, kind: g.kind, state: g.state, ...(name !== undefined ? { name } : {}), ...(g.state === "joined" ? { joinedAt: since } : {}), since };
      }),
    });
  });
}
