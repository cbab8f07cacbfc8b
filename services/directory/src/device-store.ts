import type { DeviceInfo } from '@commucat/contracts';
import type { Queryable } from './identity-store.js';

export interface DeviceListing {
  deviceId: string;
  userId: string;
  status: string;
  createdAt: Date;
  publicKey: Buffer;
  /** Newest key event (registration, pairing or rotation). */
  lastKeyEventAt: Date | null;
}

export const toDeviceInfo = (device: DeviceListing, currentDeviceId = ''): DeviceInfo => ({
  deviceId: device.deviceId,
  status: device.status,
  createdAt: device.createdAt.getTime(),
  publicKey: device.publicKey,
  current: device.deviceId === currentDeviceId,
  lastRotatedAt: device.lastKeyEventAt?.getTime() ?? 0,
});

/** Reads of devices as the REST API shows them. */
export const deviceStore = {
  /** Every device (all statuses) of the given users, oldest first, grouped by user. */
  async devicesOfUsers(db: Queryable, userIds: readonly string[]): Promise<Map<string, DeviceListing[]>> {
    const byUser = new Map<string, DeviceListing[]>();
    if (userIds.length === 0) return byUser;
    const { rows } = await db.query(
      `SELECT d.device_id, d.user_id, d.status, d.created_at, d.public_key,
              (SELECT max(e.recorded_at) FROM device_key_event e WHERE e.device_id = d.device_id) AS last_key_event_at
         FROM user_device d
        WHERE d.user_id = ANY($1::text[])
        ORDER BY d.created_at, d.device_id`,
      [userIds],
    );
    for (const r of rows) {
      const listing: DeviceListing = {
        deviceId: r.device_id, userId: r.user_id, status: r.status, createdAt: r.created_at,
        publicKey: r.public_key, lastKeyEventAt: r.last_key_event_at,
      };
      const list = byUser.get(listing.userId);
      if (list) list.push(listing);
      else byUser.set(listing.userId, [listing]);
    }
    return byUser;
  },
};
