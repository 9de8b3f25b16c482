import { Hono } from "hono";
import { appIdOfPath } from "../apps/app-path.js";
import { HttpError } from "../http/http-error.js";
import { type DeadLetterDeps, describeDeadLetter, retryDeadLetterOrThrow } from "./dead-letters-route.js";

/**
 * One app's dead letters, for its key (the settings page's Deliveries tab) or the master secret:
 * `GET /v1/apps/{appId}/dead-letters` and `POST /v1/apps/{appId}/dead-letters/{id}/retry`, the
 * same store functions as the operator's /v1/dead-letters, kept to the app. Another app's dead
 * letter is answered 404 like an unknown one (not 403), so a key cannot learn what other apps have.
 * Webhook events belong to no app and are only the operator's.
 */
export function appDeadLettersRoute(deps: DeadLetterDeps) {
  return new Hono()
    .get("/:appId/dead-letters", async (c) => {
      const appId = appIdOfPath(c);
      const letters = await deps.store.listDeadLetters();
      return c.json(letters.filter((letter) => letter.appId === appId).map(describeDeadLetter));
    })
    .post("/:appId/dead-letters/:id/retry", async (c) => {
      const appId = appIdOfPath(c);
      const id = c.req.param("id");
      const letter = await deps.store.getDeadLetter(id);
      if (!letter || letter.appId !== appId) throw new HttpError(404, "not_found", `no dead letter ${id} of app ${appId}`);
      return c.json(await retryDeadLetterOrThrow(deps, id), 202);
    });
}
