import type { Pool, PoolClient } from 'pg';
import type { UserProfile } from '@commucat/contracts';

/** A pool for single statements or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

export interface UserRow {
  userId: string;
  handle: string;
  domain: string;
  displayName: string | null;
  avatarUrl: string | null;
}

export interface DeviceRow {
  deviceId: string;
  userId: string;
  publicKey: Buffer;
  status: 'active' | 'revoked' | 'diagnostic';
}

const toUser = (r: Record<string, unknown>): UserRow => ({
  userId: r.user_id as string,
  handle: r.handle as string,
  domain: r.domain as string,
  displayName: r.display_name as string | null,
  avatarUrl: r.avatar_url as string | null,
});

export const toProfile = (user: UserRow): UserProfile => ({
  userId: user.userId, handle: user.handle, domain: user.domain,
  displayName: user.displayName ?? undefined, avatarUrl: user.avatarUrl ?? undefined,
});

/** SQL for users and devices: writes run on the caller's transaction client, single reads may use the pool. */
export const identityStore = {
  async deviceForUpdate(db: PoolClient, deviceId: string): Promise<DeviceRow | undefined> {
    const { rows } = await db.query('SELECT device_id, user_id, public_key, status FROM user_device WHERE device_id = $1 FOR UPDATE', [deviceId]);
    const r = rows[0];
    return r && { deviceId: r.device_id, userId: r.user_id, publicKey: r.public_key, status: r.status };
  },

  async userById(db: Queryable, userId: string): Promise<UserRow | undefined> {
    const { rows } = await db.query('SELECT user_id, handle, domain, display_name, avatar_url FROM app_user WHERE user_id = $1', [userId]);
    return rows[0] && toUser(rows[0]);
  },

  async userByHandle(db: PoolClient, handle: string): Promise<UserRow | undefined> {
    const { rows } = await db.query('SELECT user_id, handle, domain, display_name, avatar_url FROM app_user WHERE handle = $1', [handle]);
    return rows[0] && toUser(rows[0]);
  },

  async insertUser(db: Queryable, user: UserRow): Promise<void> {
    await db.query(
      'INSERT INTO app_user (user_id, handle, domain, display_name, avatar_url) VALUES ($1, $2, $3, $4, $5)',
      [user.userId, user.handle, user.domain, user.displayName, user.avatarUrl],
    );
  },

  async updateProfile(db: PoolClient, userId: string, displayName: string | undefined, avatarUrl: string | undefined): Promise<void> {
    await db.query(
      `UPDATE app_user SET display_name = COALESCE($2, display_name), avatar_url = COALESCE($3, avatar_url), updated_at = now()
        WHERE user_id = $1 AND (display_name IS DISTINCT FROM COALESCE($2, display_name) OR avatar_url IS DISTINCT FROM COALESCE($3, avatar_url))`,
      [userId, displayName ?? null, avatarUrl ?? null],
    );
  },

  async activeDeviceIds(db: Queryable, userId: string): Promise<string[]> {
    const { rows } = await db.query("SELECT device_id FROM user_device WHERE user_id = $1 AND status = 'active' ORDER BY device_id", [userId]);
    return rows.map((r) => r.device_id as string);
  },

  async countActiveDevices(db: PoolClient, userId: string): Promise<number> {
    const { rows } = await db.query("SELECT count(*)::int AS n FROM user_device WHERE user_id = $1 AND status = 'active'", [userId]);
    return rows[0].n as number;
  },

  /** The device and its first key event ('registered' by a Hello, 'paired' by a pairing claim). */
  async insertDevice(db: PoolClient, device: DeviceRow, eventId: string, reason: 'registered' | 'paired' = 'registered'): Promise<void> {
    await db.query('INSERT INTO user_device (device_id, user_id, public_key, status) VALUES ($1, $2, $3, $4)', [device.deviceId, device.userId, device.publicKey, device.status]);
    await db.query('INSERT INTO device_key_event (event_id, device_id, public_key, reason) VALUES ($1, $2, $3, $4)', [eventId, device.deviceId, device.publicKey, reason]);
  },

  /** A user named by id first, then by handle (the REST API accepts either). */
  async userByIdOrHandle(db: Queryable, idOrHandle: string): Promise<UserRow | undefined> {
    const { rows } = await db.query(
      `SELECT user_id, handle, domain, display_name, avatar_url FROM app_user
        WHERE user_id = $1 OR handle = $1 ORDER BY (user_id = $1) DESC LIMIT 1`,
      [idOrHandle],
    );
    return rows[0] && toUser(rows[0]);
  },

  /** Locks the user's row: serialises writers of that user's friend list and avatar. */
  async lockUser(db: PoolClient, userId: string): Promise<UserRow | undefined> {
    const { rows } = await db.query('SELECT user_id, handle, domain, display_name, avatar_url FROM app_user WHERE user_id = $1 FOR UPDATE', [userId]);
    return rows[0] && toUser(rows[0]);
  },
};
