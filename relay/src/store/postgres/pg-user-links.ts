import type pg from "pg";
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
} from "../../links/user-links.js";
import { inTransaction, type Sql } from "./pg-connection.js";

/**
 * Links between kintone and LINE users, and the connect flow's one-time steps, in PostgreSQL,
 * shared by every relay instance (sqlite-user-links.ts is the same on SQLite). Spending a start or
 * a state is one conditional UPDATE … RETURNING: of two instances racing for it, one gets it.
 */
export const PG_USER_LINKS_MIGRATION = `
  -- A kintone user proven to be a LINE user (OAuth + LINE account link): one row per kintone user,
  -- one per LINE user. refresh_token_sealed: AES-256-GCM under RELAY_TOKEN_KEY (links/token-box.ts).
  -- state 'reconnect': kintone refused the token; the user must connect again.
  CREATE TABLE user_links (
    kintone_user_code TEXT PRIMARY KEY,
    kintone_user_name TEXT NOT NULL,
    line_user_id TEXT NOT NULL UNIQUE,
    refresh_token_sealed TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'reconnect')),
    linked_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  -- The connect flow's one-time steps, each kept by the SHA-256 hash of its secret and spent once
  -- (used_at): /connect/start?t=…, the OAuth state (bound to the browser by its cookie's hash),
  -- the account-link nonce (with the kintone user OAuth proved and their sealed refresh token,
  -- cleared once the nonce is spent). Pruned once expired (store pruning).
  CREATE TABLE connect_starts (
    token_hash TEXT PRIMARY KEY,
    line_user_id TEXT NOT NULL,
    link_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  );
  CREATE INDEX connect_starts_expiry ON connect_starts (expires_at);
  CREATE TABLE connect_states (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    link_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  );
  CREATE INDEX connect_states_expiry ON connect_states (expires_at);
  CREATE TABLE connect_nonces (
    nonce_hash TEXT PRIMARY KEY,
    line_user_id TEXT NOT NULL,
    kintone_user_code TEXT NOT NULL,
    kintone_user_name TEXT NOT NULL,
    refresh_token_sealed TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    used_by_event TEXT,
    outcome TEXT
  );
  CREATE INDEX connect_nonces_expiry ON connect_nonces (expires_at);
`;

/** Pruning steps in pg-prune.ts's form ($1 the cutoff, $2 the batch): the connect flow's steps expired before the cutoff. */
export const PG_USER_LINKS_PRUNE_STEPS: readonly string[] = ["connect_starts", "connect_states", "connect_nonces"].map(
  (table) => `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
);

/**
 * Held while a link is written: linking replaces the links of both users, and two instances
 * linking the same user at once would otherwise collide on the unique keys. Linking is rare.
 * An advisory lock class of its own ("relL"), in the two-key form the store's other locks use.
 */
const USER_LINKS_LOCK = 0x72656c4c;

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

const toUserLink = (row: LinkDbRow): UserLink => ({
  kintoneUserCode: row.kintone_user_code,
  kintoneUserName: row.kintone_user_name,
  lineUserId: row.line_user_id,
  linkedAt: row.linked_at,
  state: row.state,
});

export class PostgresUserLinkStore implements UserLinkStore {
  constructor(private readonly pool: pg.Pool) {}

  private get sql(): Sql {
    return this.pool;
  }

  async getLinkByLineUser(lineUserId: string): Promise<UserLink | undefined> {
    const { rows } = await this.sql.query<LinkDbRow>(`SELECT ${LINK_COLUMNS} FROM user_links WHERE line_user_id = $1`, [lineUserId]);
    return rows[0] && toUserLink(rows[0]);
  }

  async getLinkByKintoneUser(kintoneUserCode: string): Promise<UserLink | undefined> {
    const { rows } = await this.sql.query<LinkDbRow>(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = $1`, [kintoneUserCode]);
    return rows[0] && toUserLink(rows[0]);
  }

  async getLinksByKintoneUsers(codes: readonly string[]): Promise<UserLink[]> {
    if (codes.length === 0) return [];
    const { rows } = await this.sql.query<LinkDbRow>(
      `SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = ANY($1::text[]) ORDER BY kintone_user_code`,
      [[...codes]],
    );
    return rows.map(toUserLink);
  }

  async listLinks(): Promise<UserLink[]> {
    const { rows } = await this.sql.query<LinkDbRow>(`SELECT ${LINK_COLUMNS} FROM user_links ORDER BY linked_at, kintone_user_code`);
    return rows.map(toUserLink);
  }

  async deleteLink(kintoneUserCode: string): Promise<boolean> {
    const { rowCount } = await this.sql.query(`DELETE FROM user_links WHERE kintone_user_code = $1`, [kintoneUserCode]);
    return rowCount === 1;
  }

  async deleteLinkByLineUser(lineUserId: string): Promise<UserLink | undefined> {
    const { rows } = await this.sql.query<LinkDbRow>(`DELETE FROM user_links WHERE line_user_id = $1 RETURNING ${LINK_COLUMNS}`, [lineUserId]);
    return rows[0] && toUserLink(rows[0]);
  }

  async markLinkNeedsReconnect(kintoneUserCode: string, now: number): Promise<void> {
    await this.sql.query(`UPDATE user_links SET state = 'reconnect', updated_at = $1 WHERE kintone_user_code = $2`, [now, kintoneUserCode]);
  }

  async getLinkCredentials(kintoneUserCode: string): Promise<{ link: UserLink; sealedRefreshToken: string } | undefined> {
    const { rows } = await this.sql.query<LinkDbRow>(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = $1`, [kintoneUserCode]);
    const row = rows[0];
    return row && { link: toUserLink(row), sealedRefreshToken: row.refresh_token_sealed };
  }

  async createConnectStart(row: ConnectStartRow): Promise<void> {
    await this.sql.query(`INSERT INTO connect_starts (token_hash, line_user_id, link_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      row.tokenHash,
      row.lineUserId,
      row.linkToken,
      row.createdAt,
      row.expiresAt,
    ]);
  }

  async takeConnectStart(tokenHash: string, now: number): Promise<ConnectRequest | undefined> {
    const { rows } = await this.sql.query<{ line_user_id: string; link_token: string }>(
      `UPDATE connect_starts SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING line_user_id, link_token`,
      [tokenHash, now],
    );
    return rows[0] && { lineUserId: rows[0].line_user_id, linkToken: rows[0].link_token };
  }

  async createConnectState(row: ConnectStateRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO connect_states (state_hash, browser_hash, line_user_id, link_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.stateHash, row.browserHash, row.lineUserId, row.linkToken, row.createdAt, row.expiresAt],
    );
  }

  async takeConnectState(stateHash: string, browserHash: string, now: number): Promise<ConnectRequest | undefined> {
    const { rows } = await this.sql.query<{ line_user_id: string; link_token: string }>(
      `UPDATE connect_states SET used_at = $3
       WHERE state_hash = $1 AND browser_hash = $2 AND used_at IS NULL AND expires_at > $3 RETURNING line_user_id, link_token`,
      [stateHash, browserHash, now],
    );
    return rows[0] && { lineUserId: rows[0].line_user_id, linkToken: rows[0].link_token };
  }

  async createPendingLink(row: PendingLinkRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO connect_nonces (nonce_hash, line_user_id, kintone_user_code, kintone_user_name, refresh_token_sealed, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [row.nonceHash, row.lineUserId, row.kintoneUserCode, row.kintoneUserName, row.sealedRefreshToken, row.createdAt, row.expiresAt],
    );
  }

  async completePendingLink(nonceHash: string, lineUserId: string, result: "ok" | "failed", eventId: string, now: number): Promise<CompleteLinkResult> {
    return inTransaction(this.pool, async (tx): Promise<CompleteLinkResult> => {
      await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext('user_links'))`, [USER_LINKS_LOCK]);
      const { rows } = await tx.query<NonceDbRow>(
        `SELECT line_user_id, kintone_user_code, kintone_user_name, refresh_token_sealed, expires_at, used_at, used_by_event, outcome
         FROM connect_nonces WHERE nonce_hash = $1 FOR UPDATE`,
        [nonceHash],
      );
      const nonce = rows[0];
      if (!nonce) return { ok: false, reason: "unknown_nonce" };
      if (nonce.used_at !== null) {
        // The same event run again (its job re-ran after a crash): the outcome it had.
        if (nonce.used_by_event !== eventId) return { ok: false, reason: "used" };
        if (nonce.outcome !== "linked") return { ok: false, reason: asRefusal(nonce.outcome) };
        const linked = await tx.query<LinkDbRow>(`SELECT ${LINK_COLUMNS} FROM user_links WHERE kintone_user_code = $1 AND line_user_id = $2`, [
          nonce.kintone_user_code,
          nonce.line_user_id,
        ]);
        return linked.rows[0] ? { ok: true, link: toUserLink(linked.rows[0]) } : { ok: false, reason: "used" };
      }
      const outcome = nonceOutcome({ lineUserId: nonce.line_user_id, expiresAt: nonce.expires_at }, lineUserId, result, now);
      await tx.query(`UPDATE connect_nonces SET used_at = $1, used_by_event = $2, outcome = $3, refresh_token_sealed = NULL WHERE nonce_hash = $4`, [
        now,
        eventId,
        outcome,
        nonceHash,
      ]);
      if (outcome !== "linked" || nonce.refresh_token_sealed === null) return { ok: false, reason: outcome === "linked" ? "used" : outcome };
      // One LINE user, one kintone user: linking again replaces whatever either had.
      await tx.query(`DELETE FROM user_links WHERE kintone_user_code = $1 OR line_user_id = $2`, [nonce.kintone_user_code, nonce.line_user_id]);
      await tx.query(
        `INSERT INTO user_links (kintone_user_code, kintone_user_name, line_user_id, refresh_token_sealed, state, linked_at, updated_at)
         VALUES ($1, $2, $3, $4, 'active', $5, $5)`,
        [nonce.kintone_user_code, nonce.kintone_user_name, nonce.line_user_id, nonce.refresh_token_sealed, now],
      );
      return {
        ok: true,
        link: { kintoneUserCode: nonce.kintone_user_code, kintoneUserName: nonce.kintone_user_name, lineUserId: nonce.line_user_id, linkedAt: now, state: "active" },
      };
    });
  }
}
