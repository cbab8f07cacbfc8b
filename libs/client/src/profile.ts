import type { JsonValue } from '@commucat/ccp1';
import type { DeviceIdentity } from './identity';
import { isJsonObject } from './json-object';

/**
 * Copies the user snapshot of the Noise msg2 payload into the identity, as the real client updates
 * its profile (§4.4): only string values count; null and missing leave the field as it was.
 */
export function applyUserProfile(identity: DeviceIdentity, user: JsonValue | undefined): void {
  if (!isJsonObject(user)) return;
  const id = user['id'];
  const handle = user['handle'];
  const displayName = user['display_name'];
  const avatarUrl = user['avatar_url'];
  if (typeof id === 'string') identity.userId = id;
  if (typeof handle === 'string') identity.handle = handle;
  if (typeof displayName === 'string') identity.displayName = displayName;
  if (typeof avatarUrl === 'string') identity.avatarUrl = avatarUrl;
}
