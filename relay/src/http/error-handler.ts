import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../logger.js";
import { HttpError } from "./http-error.js";

/** The one place that turns errors into `{error: {code, message, details?}}` answers. */
export function jsonErrorHandler(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof HttpError) {
      const body = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
      return c.json(body, error.status, error.headers ? { ...error.headers } : undefined);
    }
    // Hono's own middleware (bearerAuth) throws its answer, already in our shape.
    if (error instanceof HTTPException) return error.getResponse();
    logger.error("request failed", { path: c.req.path, error });
    return c.json({ error: { code: "internal", message: "internal error; see the relay's log" } }, 500);
  };
}
