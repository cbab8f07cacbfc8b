import type { CommucatConfig } from '@commucat/config';
import { DirectoryServiceClient } from '@commucat/contracts';
import { callPeer } from '../grpc-call';
import { fleetPeer } from '../fleet-peers';
import type { Output } from '../output';
import { renderKeyValues } from '../table';

export type SessionTarget = { readonly deviceId: string } | { readonly userId: string };

export async function revokeSessions(config: CommucatConfig, output: Output, target: SessionTarget): Promise<void> {
  const request = 'deviceId' in target ? { deviceId: target.deviceId, userId: '' } : { deviceId: '', userId: target.userId };
  const { revoked } = await callPeer(DirectoryServiceClient, fleetPeer(config, 'directory'), 'revokeSessions', request, output);
  const document = { ...('deviceId' in target ? { device_id: target.deviceId } : { user_id: target.userId }), sessions_revoked: revoked };
  output.result(document, renderKeyValues(Object.entries(document)));
}
