import type { Pool } from 'pg';
import type { AuthorizeFederatedDeliveryRequest, AuthorizeFederatedDeliveryResponse } from '@commucat/contracts';
import { refuse } from './directory-errors.js';
import { parseRemoteUser } from './federated-id.js';
import { friendStore } from './friend-store.js';

/**
 * Whether a peer may deliver a frame from its user to a local device (weakness §11.13: the
 * reference delivered anything to any device). Only to a device that is not revoked, and only
 * when the device's user lists the sender as a friend.
 */
export class FederatedDeliveryAuthorizer {
  constructor(private readonly pool: Pool) {}

  async authorize(req: AuthorizeFederatedDeliveryRequest): Promise<AuthorizeFederatedDeliveryResponse> {
    const origin = req.origin.trim().toLowerCase();
    const sender = parseRemoteUser(req.senderUser.trim());
    if (!origin || !sender || sender.domain !== origin) throw refuse('federated_from_mismatch', 'sender_user must be handle@origin');
    if (!req.targetDeviceId) throw refuse('device_id_required', 'target_device_id is required');
    const { rows } = await this.pool.query<{ user_id: string; status: string }>(
      'SELECT user_id, status FROM user_device WHERE device_id = $1', [req.targetDeviceId],
    );
    const device = rows[0];
    if (!device || device.status === 'revoked') throw refuse('device_not_found', 'no such device');
    if (!(await friendStore.listsRemote(this.pool, device.user_id, sender.handle, sender.domain))) {
      throw refuse('not_friends', 'the device\'s user does not list the sender as a friend');
    }
    return { userId: device.user_id };
  }
}
