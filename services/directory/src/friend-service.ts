import type { Pool } from 'pg';
import type {
  FriendDevices, FriendDevicesOfRequest, FriendDevicesOfResponse, FriendEntry, FriendList, GetFriendsRequest,
  PutFriendsRequest, RemoveFriendRequest, RemoveFriendResponse,
} from '@commucat/contracts';
import { withTransaction } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { deviceStore, toDeviceInfo } from './device-store.js';
import { friendStore, type NewFriendEntry } from './friend-store.js';
import { identityStore } from './identity-store.js';

export const MAX_FRIENDS = 512;
// Not limited by the reference; generous bounds so a list cannot be used to store blobs.
const MAX_FRIEND_ID_LENGTH = 320;
const MAX_ALIAS_LENGTH = 256;

/** GET/PUT /api/friends, DELETE /api/friends/{id} and GET /api/friends/{id}/devices. */
export class FriendService {
  constructor(private readonly pool: Pool) {}

  /**
   * The list with one `devices` key per entry. Devices are shown only for mutual friends (each
   * lists the other); other entries get an empty list, so adding someone to your own list no
   * longer reveals their devices and keys (weakness §11.9).
   */
  async get(req: GetFriendsRequest): Promise<FriendList> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const entries = await friendStore.entries(this.pool, req.userId);
    const ids = entries.map((e) => e.friendUserId);
    const mutual = [...(await friendStore.listingBack(this.pool, req.userId, ids))];
    const devicesByUser = await deviceStore.devicesOfUsers(this.pool, mutual);
    const devices: Record<string, FriendDevices> = {};
    const friends: FriendEntry[] = entries.map((e) => {
      devices[e.friendUserId] = { devices: (devicesByUser.get(e.friendUserId) ?? []).map((d) => toDeviceInfo(d)) };
      return { userId: e.friendUserId, alias: e.alias ?? undefined, handle: e.handle ?? undefined };
    });
    return { friends, devices };
  }

  /** Replaces the caller's list in one transaction (entries need not be users known here). */
  async put(req: PutFriendsRequest): Promise<FriendList> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const entries = validateFriendList(req.userId, req.friends);
    await withTransaction(this.pool, async (db) => {
      if (!(await identityStore.lockUser(db, req.userId))) throw refuse('user_not_found', 'unknown user');
      await friendStore.replace(db, req.userId, entries);
    });
    return this.get({ userId: req.userId });
  }

  /** Only the caller's entry goes; `friend` is the listed id, or a local user's id or handle. */
  async remove(req: RemoveFriendRequest): Promise<RemoveFriendResponse> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const named = req.friend.trim();
    if (!named) throw refuse('friend_user_id_required', 'friend is required');
    if (await friendStore.remove(this.pool, req.userId, named)) return {};
    const user = await identityStore.userByIdOrHandle(this.pool, named);
    if (user && (await friendStore.remove(this.pool, req.userId, user.userId))) return {};
    throw refuse('friend_not_listed', 'not in the friend list');
  }

  async devicesOf(req: FriendDevicesOfRequest): Promise<FriendDevicesOfResponse> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const named = req.friend.trim();
    if (!named) throw refuse('friend_user_id_required', 'friend is required');
    const friend = await identityStore.userByIdOrHandle(this.pool, named);
    if (!friend) throw refuse('friend_not_found', 'unknown user');
    if (!(await friendStore.isMutual(this.pool, req.userId, friend.userId))) throw refuse('not_mutual_friend', 'not a mutual friend');
    const devices = (await deviceStore.devicesOfUsers(this.pool, [friend.userId])).get(friend.userId) ?? [];
    return { friendUserId: friend.userId, devices: devices.map((d) => toDeviceInfo(d)) };
  }
}

/** PUT /api/friends rules (spec rest-storage-ops §1.5): trimmed, unique, non-empty ids; empty alias = none. */
export function validateFriendList(ownerId: string, friends: readonly FriendEntry[]): NewFriendEntry[] {
  if (friends.length > MAX_FRIENDS) throw refuse('too_many_friends', `at most ${MAX_FRIENDS} friends`);
  const seen = new Set<string>();
  return friends.map((entry, i) => {
    const friendUserId = entry.userId.trim();
    if (!friendUserId) throw refuse('friend_user_id_required', `friends[${i}].user_id is empty`);
    if (friendUserId.length > MAX_FRIEND_ID_LENGTH) throw refuse('friend_user_id_too_long', `friends[${i}].user_id is too long`);
    if (friendUserId === ownerId) throw refuse('friend_is_self', `friends[${i}] is the user themself`);
    if (seen.has(friendUserId)) throw refuse('duplicate_friend', `friends[${i}].user_id is listed twice`);
    seen.add(friendUserId);
    const alias = entry.alias?.trim() || undefined;
    if (alias !== undefined && alias.length > MAX_ALIAS_LENGTH) throw refuse('friend_alias_too_long', `friends[${i}].alias is too long`);
    return { friendUserId, alias };
  });
}
