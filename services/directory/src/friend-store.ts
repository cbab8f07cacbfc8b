import type { Pool } from 'pg';

/** Reads of the friend lists (table `friend`, migration 007). */
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
};
