import type Database from "better-sqlite3";
import { transactionsOf } from "./sqlite-transactions.js";
import { lockingWrites } from "./sqlite-write-lock.js";
import {
  asRefusal,
  nonceOutcome,
  type CompleteLinkResult,
  type ConnectRequest,
  type ConnectStartRow,
  type ConnectStateRow,
  type PendingLinkRow,
  type UserLink,
  type UserLinkStore,
} from "../links/user-links.js";

/**
 * Links between kintone and LINE users, and the connect flow's one-time steps (links/user-links.ts),
 * in SQLite. Spending a start, a state or a nonce is one conditional UPDATE (or one IMMEDIATE
 * transaction), so two requests racing for the same one cannot both have it.
 */
export const SQLITE_USER_LINKS_MIGRATION = `
  -- A kintone user proven to be a LINE user (OAuth + LINE account link): one row per kintone user,
  -- one per LINE user. refresh_token_sealed: AES-256-GCM under RELAY_TOKEN_KEY (links/token-box.ts).
  -- state 'reconnect': kintone refused the token; the user must connect again.
  CREATE TABLE user_links (
    kintone_user_code TEXT PRIMARY KEY,
    kintone_user_name TEXT NOT NULL,
    line_user_id TEXT NOT NULL UNIQUE,
    refresh_token_sealed TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'reconnect')),
    linked_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  -- The connect flow's one-time steps, each kept by the SHA-256 hash of its secret and spent once
  -- (used_at): /connect/start?t=…, the OAuth state (bound to the browser by its cookie's hash),
  -- the account-link nonce (with the kintone user OAuth proved and their sealed refresh token,
  -- cleared once the nonce is spent). Pruned once expired (store pruning).
  CREATE TABLE connect_starts (
    token_hash TEXT PRIMARY KEY,
    line_user_id TEXT NOT NULL,
    link_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE INDEX connect_starts_expiry ON connect_starts (expires_at);
  CREATE TABLE connect_states (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    link_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE INDEX connect_states_expiry ON connect_states (expires_at);
  CREATE TABLE connect_nonces (
    nonce_hash TEXT PRIMARY KEY,
    line_user_id TEXT NOT NULL,
    kintone_user_code TEXT NOT NULL,
    kintone_user_name TEXT NOT NULL,
    refresh_token_sealed TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by_event TEXT,
    outcome TEXT
  );
  CREATE INDEX connect_nonces_expiry ON connect_nonces (expires_at);
`;

/** SqliteStore's pruning (named parameters @before, @limit): the connect flow's steps expired before the cutoff. */
export const SQLITE_USER_LINKS_PRUNE_STEPS: readonly string[] = [
  `DELETE FROM connect_starts WHERE rowid IN (SELECT rowid FROM connect_starts WHERE expires_at < @before LIMIT @limit)`,
  `DELETE FROM connect_states WHERE rowid IN (SELECT rowid FROM connect_states WHERE expires_at < @before LIMIT @limit)`,
  `DELETE FROM connect_nonces WHERE rowid IN (SELECT rowid FROM connect_nonces WHERE expires_at < @before LIMIT @limit)`,
];

interface LinkDbRow {
  kintone_user_code: string;
  kintone_user_name: string;
  line_user_id: string;
  refresh_token_sealed: string;
  state: "active" | "reconnect";
  linked_at: number;
}

interface NonceDbRow {
  line_user_id: string;
  kintone_user_code: string;
  kintone_user_name: string;
  refresh_token_sealed: string | null;
  expires_at: number;
  used_at: number | null;
  used_by_event: string | null;
  outcome: string | null;
}

const LINK_COLUMNS = `kintone_user_code, kintone_user_name, line_user_id, refresh_token_sealed, state, linked_at`;

const toUserLink = (row: Omit<LinkDbRow, "refresh_token_sealed">): UserLink => ({
  kintoneUserCode: row.kintone_user_code,
  kintoneUserName: row.kintone_user_name,
  lineUserId: row.line_user_id,
  linkedAt: row.linked_at,
  state: row.state,
});

export class SqliteUserLinkStore implements UserLinkStore {
  constructor(private readonly db: Database.Database) {}

  /** A transaction on this connection (see sqlite-transactions.ts). */
  private inTransaction<T>(work: () => T): T {
    return transactionsOf(this.db).run(work);
  }

  /** An IMMEDIATE transaction on this connection (see sqlite-transactions.ts). */
  private inImmediateTransaction<T>(work: () => T): T {
    return transactionsOf(this.db).immediate(work);
  }

  private readonly statements = new Map<string, Database.Statement>();

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = lockingWrites(this.db, this.db.prepare(text));
      this.statements.set(text, statement);
    }
    return statement;
  }

  async getLinkByLineUser(lineUserId: string): Promise<UserLink | undefined> {
    const row = this.sql(`SELECT ${LINK_COLUMNS} FROM user_links WHERE line_user_id = ?`).get(lineUserId) as LinkDbRow | undefined;
    return row && toUserLink(row);
  }

  async getLinkByKintoneUser(kintoneUserCode: string): Promise<UserLink | undefined> {
    const row = this.sql(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = ?`).get(kintoneUserCode) as LinkDbRow | undefined;
    return row && toUserLink(row);
  }

  async getLinksByKintoneUsers(codes: readonly string[]): Promise<UserLink[]> {
    if (codes.length === 0) return [];
    const rows = this.sql(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code IN (SELECT value FROM json_each(?)) ORDER BY kintone_user_code`)
      .all(JSON.stringify(codes)) as LinkDbRow[];
    return rows.map(toUserLink);
  }

  async listLinks(): Promise<UserLink[]> {
    return (this.sql(`SELECT ${LINK_COLUMNS} FROM user_links ORDER BY linked_at, kintone_user_code`).all() as LinkDbRow[]).map(toUserLink);
  }

  async deleteLink(kintoneUserCode: string): Promise<boolean> {
    return this.sql(`DELETE FROM user_links WHERE kintone_user_code = ?`).run(kintoneUserCode).changes === 1;
  }

  async deleteLinkByLineUser(lineUserId: string): Promise<UserLink | undefined> {
    const row = this.sql(`DELETE FROM user_links WHERE line_user_id = ? RETURNING ${LINK_COLUMNS}`).get(lineUserId) as LinkDbRow | undefined;
    return row && toUserLink(row);
  }

  async markLinkNeedsReconnect(kintoneUserCode: string, now: number): Promise<void> {
    this.sql(`UPDATE user_links SET state = 'reconnect', updated_at = ? WHERE kintone_user_code = ?`).run(now, kintoneUserCode);
  }

  async getLinkCredentials(kintoneUserCode: string): Promise<{ link: UserLink; sealedRefreshToken: string } | undefined> {
    const row = this.sql(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = ?`).get(kintoneUserCode) as LinkDbRow | undefined;
    return row && { link: toUserLink(row), sealedRefreshToken: row.refresh_token_sealed };
  }

  async createConnectStart(row: ConnectStartRow): Promise<void> {
    this.sql(`INSERT INTO connect_starts (token_hash, line_user_id, link_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`)
      .run(row.tokenHash, row.lineUserId, row.linkToken, row.createdAt, row.expiresAt);
  }

  async takeConnectStart(tokenHash: string, now: number): Promise<ConnectRequest | undefined> {
    const row = this.sql(
      `UPDATE connect_starts SET used_at = @now WHERE token_hash = @hash AND used_at IS NULL AND expires_at > @now RETURNING line_user_id, link_token`,
    ).get({ hash: tokenHash, now }) as { line_user_id: string; link_token: string } | undefined;
    return row && { lineUserId: row.line_user_id, linkToken: row.link_token };
  }

  async createConnectState(row: ConnectStateRow): Promise<void> {
    this.sql(`INSERT INTO connect_states (state_hash, browser_hash, line_user_id, link_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(row.stateHash, row.browserHash, row.lineUserId, row.linkToken, row.createdAt, row.expiresAt);
  }

  async takeConnectState(stateHash: string, browserHash: string, now: number): Promise<ConnectRequest | undefined> {
    const row = this.sql(
      `UPDATE connect_states SET used_at = @now
       WHERE state_hash = @hash AND browser_hash = @browser AND used_at IS NULL AND expires_at > @now RETURNING line_user_id, link_token`,
    ).get({ hash: stateHash, browser: browserHash, now }) as { line_user_id: string; link_token: string } | undefined;
    return row && { lineUserId: row.line_user_id, linkToken: row.link_token };
  }

  async createPendingLink(row: PendingLinkRow): Promise<void> {
    this.sql(
      `INSERT INTO connect_nonces (nonce_hash, line_user_id, kintone_user_code, kintone_user_name, refresh_token_sealed, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(row.nonceHash, row.lineUserId, row.kintoneUserCode, row.kintoneUserName, row.sealedRefreshToken, row.createdAt, row.expiresAt);
  }

  async completePendingLink(nonceHash: string, lineUserId: string, result: "ok" | "failed", eventId: string, now: number): Promise<CompleteLinkResult> {
    return this.inImmediateTransaction((): CompleteLinkResult => {
      const nonce = this.sql(
        `SELECT line_user_id, kintone_user_code, kintone_user_name, refresh_token_sealed, expires_at, used_at, used_by_event, outcome
         FROM connect_nonces WHERE nonce_hash = ?`,
      ).get(nonceHash) as NonceDbRow | undefined;
      if (!nonce) return { ok: false, reason: "unknown_nonce" };
      if (nonce.used_at !== null) {
        // The same event run again (its job re-ran after a crash): the outcome it had.
        if (nonce.used_by_event !== eventId) return { ok: false, reason: "used" };
        if (nonce.outcome !== "linked") return { ok: false, reason: asRefusal(nonce.outcome) };
        const link = this.sql(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = ? AND line_user_id = ?`)
          .get(nonce.kintone_user_code, nonce.line_user_id) as LinkDbRow | undefined;
        return link ? { ok: true, link: toUserLink(link) } : { ok: false, reason: "used" };
      }
      const outcome = nonceOutcome({ lineUserId: nonce.line_user_id, expiresAt: nonce.expires_at }, lineUserId, result, now);
      this.sql(`UPDATE connect_nonces SET used_at = ?, used_by_event = ?, outcome = ?, refresh_token_sealed = NULL WHERE nonce_hash = ?`)
        .run(now, eventId, outcome, nonceHash);
      if (outcome !== "linked" || nonce.refresh_token_sealed === null) return { ok: false, reason: outcome === "linked" ? "used" : outcome };
      // One LINE user, one kintone user: linking again replaces whatever either had.
      this.sql(`DELETE FROM user_links WHERE kintone_user_code = ? OR line_user_id = ?`).run(nonce.kintone_user_code, nonce.line_user_id);
      this.sql(
        `INSERT INTO user_links (kintone_user_code, kintone_user_name, line_user_id, refresh_token_sealed, state, linked_at, updated_at)
         VALUES (?, ?, ?, ?, 'active', ?, ?)`,
      ).run(nonce.kintone_user_code, nonce.kintone_user_name, nonce.line_user_id, nonce.refresh_token_sealed, now, now);
      return {
        ok: true,
        link: { kintoneUserCode: nonce.kintone_user_code, kintoneUserName: nonce.kintone_user_name, lineUserId: nonce.line_user_id, linkedAt: now, state: "active" },
      };
    });
  }
}
