import type { Pool, PoolClient } from 'pg';
import type { Queryable } from './identity-store.js';

export interface FriendRow {
  friendUserId: string;
  alias: string | null;
  /** The friend's handle when the user is known here. */
  handle: string | null;
}

export interface NewFriendEntry {
  friendUserId: string;
  alias: string | undefined;
}

/** The friend lists (table `friend`, migrations 007 and 009). */
export const friendStore = {
  /**
   * Active devices of the users that `userId` lists and that list `userId` back. One-sided
   * entries do not count: listing someone must not let you watch them.
   */
  async mutualFriendDevices(pool: Pool, userId: string): Promise<string[]> {
    const { rows } = await pool.query<{ device_id: string }>(
      `SELECT d.device_id
         FROM friend mine
         JOIN friend theirs ON theirs.user_id = mine.friend_user_id AND theirs.friend_user_id = mine.user_id
         JOIN user_device d ON d.user_id = mine.friend_user_id AND d.status = 'active'
        WHERE mine.user_id = $1
        ORDER BY d.device_id`,
      [userId],
    );
    return rows.map((row) => row.device_id);
  },

  /** The user's list in the order it was saved. */
  async entries(db: Queryable, userId: string): Promise<FriendRow[]> {
    const { rows } = await db.query(
      `SELECT f.friend_user_id, f.alias, u.handle
         FROM friend f LEFT JOIN app_user u ON u.user_id = f.friend_user_id
        WHERE f.user_id = $1
        ORDER BY f.position, f.created_at, f.friend_user_id`,
      [userId],
    );
    return rows.map((r) => ({ friendUserId: r.friend_user_id, alias: r.alias, handle: r.handle }));
  },

  /** Which of `candidates` list `userId` back. */
  async listingBack(db: Queryable, userId: string, candidates: readonly string[]): Promise<Set<string>> {
    if (candidates.length === 0) return new Set();
    const { rows } = await db.query<{ user_id: string }>(
      'SELECT user_id FROM friend WHERE friend_user_id = $1 AND user_id = ANY($2::text[])',
      [userId, candidates],
    );
    return new Set(rows.map((r) => r.user_id));
  },

  async isMutual(db: Queryable, a: string, b: string): Promise<boolean> {
    const { rows } = await db.query(
      `SELECT 1 FROM friend mine JOIN friend theirs ON theirs.user_id = mine.friend_user_id AND theirs.friend_user_id = mine.user_id
        WHERE mine.user_id = $1 AND mine.friend_user_id = $2`,
      [a, b],
    );
    return rows.length > 0;
  },

  /** Replaces the whole list; the caller holds the user's row lock. */
  async replace(db: PoolClient, userId: string, entries: readonly NewFriendEntry[]): Promise<void> {
    await db.query('DELETE FROM friend WHERE user_id = $1', [userId]);
    if (entries.length === 0) return;
    await db.query(
      `INSERT INTO friend (user_id, friend_user_id, alias, position)
       SELECT $1, e.friend_user_id, e.alias, e.position::int - 1
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(friend_user_id, alias, position)`,
      [userId, entries.map((e) => e.friendUserId), entries.map((e) => e.alias ?? null)],
    );
  },

  /** Adds `friendUserId` at the end of the list unless listed; the caller holds the user's row lock. */
  async append(db: PoolClient, userId: string, friendUserId: string): Promise<void> {
    await db.query(
      `INSERT INTO friend (user_id, friend_user_id, position)
       SELECT $1, $2, COALESCE(max(position) + 1, 0) FROM friend WHERE user_id = $1
       ON CONFLICT (user_id, friend_user_id) DO NOTHING`,
      [userId, friendUserId],
    );
  },

  async count(db: Queryable, userId: string): Promise<number> {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM friend WHERE user_id = $1', [userId]);
    return rows[0].n as number;
  },

  async isListed(db: Queryable, userId: string, friendUserId: string): Promise<boolean> {
    const { rows } = await db.query('SELECT 1 FROM friend WHERE user_id = $1 AND friend_user_id = $2', [userId, friendUserId]);
    return rows.length > 0;
  },

  /**
   * Whether `userId` lists the remote user: entries are split at their last `@` and the domain
   * compared case-insensitively, so an entry saved by PUT /api/friends as `bob@B.Test` counts.
   */
  async listsRemote(db: Queryable, userId: string, handle: string, domain: string): Promise<boolean> {
    const { rows } = await db.query(
      `SELECT 1 FROM friend
        WHERE user_id = $1 AND friend_user_id LIKE '%@%'
          AND regexp_replace(friend_user_id, '@[^@]*$', '') = $2
          AND lower(substring(friend_user_id from '@([^@]*)$')) = $3
        LIMIT 1`,
      [userId, handle, domain.toLowerCase()],
    );
    return rows.length > 0;
  },

  /** True when the entry existed. */
  async remove(db: Queryable, userId: string, friendUserId: string): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM friend WHERE user_id = $1 AND friend_user_id = $2', [userId, friendUserId]);
    return (rowCount ?? 0) > 0;
  },
};
