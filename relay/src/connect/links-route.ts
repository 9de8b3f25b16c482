import { Hono } from "hono";
import { HttpError } from "../http/http-error.js";
import { requireMaster } from "../http/principal.js";
import type { Logger } from "../logger.js";
import type { RelayStore } from "../store/relay-store.js";

/**
 * The operator's view of who is linked (master secret only: links name people across every app).
 * `GET /v1/links` -> `{links: [{kintoneUserCode, kintoneUserName, lineUserId, linkedAt, state}]}`;
 * `DELETE /v1/links/{kintoneUserCode}` -> 204, or 404 when that user has no link.
 */
export function linksRoute(deps: { store: RelayStore; logger: Logger }): Hono {
  return new Hono()
    .get("/", async (c) => {
      requireMaster(c);
      return c.json({ links: await deps.store.userLinks.listLinks() });
    })
    .delete("/:kintoneUserCode", async (c) => {
      requireMaster(c);
      const code = c.req.param("kintoneUserCode");
      if (!(await deps.store.userLinks.deleteLink(code))) throw new HttpError(404, "unknown_link", `kintone user ${code} has no link`);
      deps.logger.info("link removed by the operator", { kintoneUser: code });
      return c.body(null, 204);
    });
}
