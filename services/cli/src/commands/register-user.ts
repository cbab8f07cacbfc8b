import type { CommucatConfig } from '@commucat/config';
import { DirectoryServiceClient } from '@commucat/contracts';
import { callPeer } from '../grpc-call';
import { fleetPeer } from '../fleet-peers';
import type { Output } from '../output';
import { renderKeyValues } from '../table';

export async function registerUser(config: CommucatConfig, output: Output, handle: string, displayName: string | undefined): Promise<void> {
  const user = await callPeer(DirectoryServiceClient, fleetPeer(config, 'directory'), 'registerUser', {
    handle,
    ...(displayName !== undefined ? { displayName } : {}),
  }, output);
  const document = {
    user_id: user.userId,
    handle: user.handle,
    domain: user.domain,
    ...(user.displayName !== undefined ? { display_name: user.displayName } : {}),
    ...(user.avatarUrl !== undefined ? { avatar_url: user.avatarUrl } : {}),
  };
  output.result(document, renderKeyValues(Object.entries(document)));
}
