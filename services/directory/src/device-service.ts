import type { Pool } from 'pg';
import type {
  DeviceRevoked, ListDevicesRequest, ListDevicesResponse, RevokeDeviceRequest, RevokeDeviceResponse,
  RevokeSessionsRequest, RevokeSessionsResponse,
} from '@commucat/contracts';
import { withTransaction } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { deviceStore, toDeviceInfo } from './device-store.js';
import { identityStore } from './identity-store.js';

/** Tells the fleet a device was revoked (the gateway holding it closes its connection). */
export interface RevocationPublisher {
  deviceRevoked(event: DeviceRevoked): void;
}

/** GET /api/devices, POST /api/devices/revoke and the CLI's device and session revocation. */
export class DeviceService {
  constructor(
    private readonly pool: Pool,
    private readonly publisher: RevocationPublisher,
  ) {}

  async list(req: ListDevicesRequest): Promise<ListDevicesResponse> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    if (!(await identityStore.userById(this.pool, req.userId))) throw refuse('user_not_found', 'unknown user');
    const devices = (await deviceStore.devicesOfUsers(this.pool, [req.userId])).get(req.userId) ?? [];
    return { devices: devices.map((d) => toDeviceInfo(d, req.currentDeviceId)) };
  }

  /**
   * Marks the device revoked and revokes its sessions and unredeemed pairing codes in one
   * transaction; the fleet hears about it once that is committed. Revoking a revoked device again
   * succeeds (and announces it again), so an operator can retry safely.
   */
  async revoke(req: RevokeDeviceRequest): Promise<RevokeDeviceResponse> {
    const deviceId = req.deviceId.trim();
    if (!deviceId) throw refuse('device_id_required', 'device_id is required');
    const operator = req.userId === '';
    if (!operator && deviceId === req.callerDeviceId) throw refuse('cannot_revoke_current_device', 'a device cannot revoke itself');

    const { ownerId, sessionsRevoked } = await withTransaction(this.pool, async (db) => {
      const device = await identityStore.deviceForUpdate(db, deviceId);
      if (!device) throw refuse('device_not_found', 'unknown device');
      if (!operator && device.userId !== req.userId) throw refuse('device_of_other_user', 'the device belongs to another user');
      await db.query("UPDATE user_device SET status = 'revoked', updated_at = now() WHERE device_id = $1", [deviceId]);
      const sessions = await db.query('UPDATE session SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL', [deviceId]);
      await db.query('DELETE FROM device_pairing WHERE issuer_device_id = $1 AND redeemed_at IS NULL', [deviceId]);
      return { ownerId: device.userId, sessionsRevoked: sessions.rowCount ?? 0 };
    });
    this.publisher.deviceRevoked({ deviceId, userId: ownerId, at: Date.now() });
    return { deviceId, status: 'revoked', sessionsRevoked };
  }

  /** CLI `sessions revoke`: the sessions of one device, or of every device of one user. */
  async revokeSessions(req: RevokeSessionsRequest): Promise<RevokeSessionsResponse> {
    if ((req.deviceId === '') === (req.userId === '')) throw refuse('revoke_target_ambiguous', 'give exactly one of device_id and user_id');
    if (req.deviceId) {
      const { rows } = await this.pool.query('SELECT 1 FROM user_device WHERE device_id = $1', [req.deviceId]);
      if (rows.length === 0) throw refuse('device_not_found', 'unknown device');
      const res = await this.pool.query('UPDATE session SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL', [req.deviceId]);
      return { revoked: res.rowCount ?? 0 };
    }
    if (!(await identityStore.userById(this.pool, req.userId))) throw refuse('user_not_found', 'unknown user');
    const res = await this.pool.query('UPDATE session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [req.userId]);
    return { revoked: res.rowCount ?? 0 };
  }
}
