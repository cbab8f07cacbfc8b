import type { PoolClient } from 'pg';

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

/** SQL for users and devices; every call runs on the caller's transaction client. */
export const identityStore = {
  async deviceForUpdate(db: PoolClient, deviceId: string): Promise<DeviceRow | undefined> {
    const { rows } = await db.query('SELECT device_id, user_id, public_key, status FROM user_device WHERE device_id = $1 FOR UPDATE', [deviceId]);
    const r = rows[0];
    return r && { deviceId: r.device_id, userId: r.user_id, publicKey: r.public_key, status: r.status };
  },

  async userById(db: PoolClient, userId: string): Promise<UserRow | undefined> {
    const { rows } = await db.query('SELECT user_id, handle, domain, display_name, avatar_url FROM app_user WHERE user_id = $1', [userId]);
    return rows[0] && toUser(rows[0]);
  },

  async userByHandle(db: PoolClient, handle: string): Promise<UserRow | undefined> {
    const { rows } = await db.query('SELECT user_id, handle, domain, display_name, avatar_url FROM app_user WHERE handle = $1', [handle]);
    return rows[0] && toUser(rows[0]);
  },

  async insertUser(db: PoolClient, user: UserRow): Promise<void> {
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

  async countActiveDevices(db: PoolClient, userId: string): Promise<number> {
    const { rows } = await db.query("SELECT count(*)::int AS n FROM user_device WHERE user_id = $1 AND status = 'active'", [userId]);
    return rows[0].n as number;
  },

  async insertDevice(db: PoolClient, device: DeviceRow, eventId: string): Promise<void> {
    await db.query('INSERT INTO user_device (device_id, user_id, public_key, status) VALUES ($1, $2, $3, $4)', [device.deviceId, device.userId, device.publicKey, device.status]);
    await db.query("INSERT INTO device_key_event (event_id, device_id, public_key, reason) VALUES ($1, $2, $3, 'registered')", [eventId, device.deviceId, device.publicKey]);
  },
};
