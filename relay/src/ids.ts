import { randomBytes } from "node:crypto";

/**
 * Sortable, unguessable IDs: a prefix, the time in base36 (fixed width) and 80 random bits.
 * Sorting by ID sorts by creation time, which keeps listings and job order stable.
 */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, "0")}${randomBytes(10).toString("base64url")}`;
}
