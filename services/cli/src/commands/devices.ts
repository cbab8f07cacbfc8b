import type { CommucatConfig } from '@commucat/config';
import { DirectoryServiceClient } from '@commucat/contracts';
import { CliError } from '../errors';
import { callPeer } from '../grpc-call';
import { fleetPeer } from '../fleet-peers';
import type { Output } from '../output';
import { renderKeyValues, renderTable } from '../table';

// The directory offers no handle lookup, so `--user` takes ids only; say so when nothing matched.
const ID_NOT_HANDLE_HINT = '--user takes a user id (the user_id that register-user prints), not a handle';

const isoOrEmpty = (unixMs: number): string | null => (unixMs > 0 ? new Date(unixMs).toISOString() : null);

export async function listDevices(config: CommucatConfig, output: Output, userId: string): Promise<void> {
  let devices;
  try {
    ({ devices } = await callPeer(DirectoryServiceClient, fleetPeer(config, 'directory'), 'listDevices', { userId, currentDeviceId: '' }, output));
  } catch (err) {
    if (err instanceof CliError && err.code === 'NOT_FOUND') throw new CliError('NOT_FOUND', err.message, ID_NOT_HANDLE_HINT, { cause: err });
    throw err;
  }
  const rows = devices.map((device) => ({
    device_id: device.deviceId,
    status: device.status,
    created_at: isoOrEmpty(device.createdAt),
    last_rotated_at: isoOrEmpty(device.lastRotatedAt),
    public_key: Buffer.from(device.publicKey).toString('hex'),
  }));
  const text =
    rows.length === 0
      ? `user ${userId} has no devices\n`
      : renderTable(
          ['device_id', 'status', 'created_at', 'last_rotated_at', 'public_key'],
          rows.map((r) => [r.device_id, r.status, r.created_at ?? '-', r.last_rotated_at ?? '-', r.public_key]),
        );
  output.result({ user_id: userId, devices: rows }, text);
}

export async function revokeDevice(config: CommucatConfig, output: Output, deviceId: string): Promise<void> {
  // An empty user_id is the operator: any device may be revoked (directory.proto).
  const res = await callPeer(DirectoryServiceClient, fleetPeer(config, 'directory'), 'revokeDevice', { userId: '', callerDeviceId: '', deviceId }, output);
  const document = { device_id: res.deviceId, status: res.status, sessions_revoked: res.sessionsRevoked };
  output.result(document, renderKeyValues(Object.entries(document)));
}
