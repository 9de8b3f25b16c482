import type Database from "better-sqlite3";
import { createHash } from "node:crypto";

/**
 * The key of a rule set's text in rule_set_contents (SHA-256, hex): app rule versions and
 * notifications name their rule set by it, so each text is stored once.
 */
export function ruleSetHash(rules: string): string {
  return createHash("sha256").update(rules).digest("hex");
}

/** ruleSetHash as the SQL function `rule_set_hash(text)`, for migrations that move stored texts. */
export function registerRuleSetHash(db: Database.Database): void {
  db.function("rule_set_hash", { deterministic: true }, (rules: unknown) => ruleSetHash(String(rules)));
}
