import type { DeviceInfo, FriendList, FriendRequest, UserProfile } from '@commucat/contracts';
import { rfc3339 } from '../rfc3339.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function deviceJson(d: DeviceInfo) {
  return { device_id: d.deviceId, status: d.status, created_at: rfc3339(d.createdAt), public_key: hex(d.publicKey), current: d.current };
}

export function friendDeviceJson(d: DeviceInfo) {
  const out: Record<string, unknown> = { device_id: d.deviceId, public_key: hex(d.publicKey), status: d.status, created_at: rfc3339(d.createdAt) };
  if (d.lastRotatedAt > 0) out.last_rotated_at = rfc3339(d.lastRotatedAt);
  return out;
}

export function friendListJson(list: FriendList) {
  const friends = list.friends.map((f) => {
    const entry: Record<string, unknown> = { user_id: f.userId };
    if (f.alias !== undefined) entry.alias = f.alias;
    if (f.handle !== undefined) entry.handle = f.handle;
    return entry;
  });
  const devices: Record<string, unknown[]> = {};
  for (const f of list.friends) devices[f.userId] = (list.devices[f.userId]?.devices ?? []).map(friendDeviceJson);
  return { friends, devices };
}

export function friendRequestJson(r: FriendRequest) {
  return {
    id: r.id, from_user_id: r.fromUserId, to_user_id: r.toUserId, status: r.status, message: r.message ?? null,
    created_at: rfc3339(r.createdAt), updated_at: rfc3339(r.updatedAt),
  };
}

export function userSummaryJson(u: UserProfile | undefined) {
  return { user_id: u?.userId ?? '', handle: u?.handle ?? '', display_name: u?.displayName ?? null, avatar_url: u?.avatarUrl ?? null };
}

/** A user of another domain (`handle@domain`): all we know is the id and its handle. */
export function remoteUserSummaryJson(userId: string) {
  return { user_id: userId, handle: userId.slice(0, userId.lastIndexOf('@')), display_name: null, avatar_url: null };
}

/** POST /api/friends/requests/{id} to another domain (spec rest-storage-ops §1.5, 202). */
export function federatedFriendRequestJson(r: FriendRequest, from: string, domain: string) {
  return {
    request: { id: r.id, from, to: r.toUserId, status: r.status, message: r.message ?? null, created_at: rfc3339(r.createdAt) },
    federation: { domain, status: 'queued' },
  };
}

export function claimedUserJson(u: UserProfile | undefined) {
  return { id: u?.userId ?? '', ...userSummaryJson(u) };
}
