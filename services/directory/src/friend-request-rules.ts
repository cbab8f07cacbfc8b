import type { PoolClient } from 'pg';
import { refuse } from './directory-errors.js';
import { localPart } from './federated-id.js';
import { MAX_FRIENDS } from './friend-service.js';
import { friendStore } from './friend-store.js';
import { identityStore, type Queryable, type UserRow } from './identity-store.js';

/** Longest friend-request message, local or federated. */
export const MAX_MESSAGE_LENGTH = 1024;

export function checkMessage(message: string | undefined): void {
  if (message !== undefined && message.length > MAX_MESSAGE_LENGTH) {
    throw refuse('friend_request_message_too_long', `message longer than ${MAX_MESSAGE_LENGTH}`);
  }
}

/** A local user by id, then handle, then `handle@<our domain>` (domain case-insensitive). */
export async function resolveLocalUser(db: Queryable, named: string, ownDomain: string): Promise<UserRow | undefined> {
  const direct = await identityStore.userByIdOrHandle(db, named);
  if (direct) return direct;
  const local = localPart(named, ownDomain);
  return local !== named && local !== '' ? identityStore.userByIdOrHandle(db, local) : undefined;
}

/** Appends `friendUserId` to the list unless listed; the caller holds the user's row lock. */
export async function befriend(db: PoolClient, userId: string, friendUserId: string): Promise<void> {
  if (await friendStore.isListed(db, userId, friendUserId)) return;
  if ((await friendStore.count(db, userId)) >= MAX_FRIENDS) throw refuse('friend_list_full', `a friend list holds at most ${MAX_FRIENDS} entries`);
  await friendStore.append(db, userId, friendUserId);
}
