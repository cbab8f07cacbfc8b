import type { Pool, PoolClient } from 'pg';
import type {
  AnswerFriendRequestRequest, CreateFriendRequestRequest, FriendRequest, FriendRequestOutcome,
  ListFriendRequestsRequest, ListFriendRequestsResponse,
} from '@commucat/contracts';
import { withTransaction } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { MAX_FRIENDS } from './friend-service.js';
import { friendStore } from './friend-store.js';
import { identityStore, toProfile, type Queryable, type UserRow } from './identity-store.js';
import { randomId } from './random-id.js';

const MAX_MESSAGE_LENGTH = 1024;
const COLUMNS = 'request_id, from_user_id, to_user_id, status, message, created_at, updated_at';

const toRequest = (r: Record<string, unknown>): FriendRequest => ({
  id: r.request_id as string,
  fromUserId: r.from_user_id as string,
  toUserId: r.to_user_id as string,
  status: r.status as string,
  message: (r.message as string | null) ?? undefined,
  createdAt: (r.created_at as Date).getTime(),
  updatedAt: (r.updated_at as Date).getTime(),
});

/** Friend requests between local users (table friend_request, migration 010). */
export class FriendRequestService {
  constructor(
    private readonly pool: Pool,
    /** server.domain: `handle@<this domain>` names a local user too. */
    private readonly domain: string,
  ) {}

  async list(req: ListFriendRequestsRequest): Promise<ListFriendRequestsResponse> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const [incoming, outgoing] = await Promise.all([
      this.pool.query(`SELECT ${COLUMNS} FROM friend_request WHERE to_user_id = $1 AND status = 'pending' ORDER BY created_at DESC, request_id`, [req.userId]),
      this.pool.query(`SELECT ${COLUMNS} FROM friend_request WHERE from_user_id = $1 ORDER BY created_at DESC, request_id`, [req.userId]),
    ]);
    return { incoming: incoming.rows.map(toRequest), outgoing: outgoing.rows.map(toRequest) };
  }

  /** Asks `target`; asking again after an answer re-opens the request as a new one. */
  async create(req: CreateFriendRequestRequest): Promise<FriendRequestOutcome> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const named = req.target.trim();
    if (!named) throw refuse('friend_request_target_required', 'target is required');
    if (named === req.userId) throw refuse('friend_request_to_self', 'cannot befriend yourself');
    if (req.message !== undefined && req.message.length > MAX_MESSAGE_LENGTH) {
      throw refuse('friend_request_message_too_long', `message longer than ${MAX_MESSAGE_LENGTH}`);
    }
    if (!(await identityStore.userById(this.pool, req.userId))) throw refuse('user_not_found', 'unknown user');
    const target = await this.resolveLocal(this.pool, named);
    if (!target) throw refuse('user_not_found', 'unknown target user');
    if (target.userId === req.userId) throw refuse('friend_request_to_self', 'cannot befriend yourself');

    // One statement: a pending request stays untouched (ALREADY_EXISTS), an answered one re-opens.
    const { rows } = await this.pool.query(
      `INSERT INTO friend_request (request_id, from_user_id, to_user_id, status, message)
       VALUES ($1, $2, $3, 'pending', $4)
       ON CONFLICT (from_user_id, to_user_id) DO UPDATE
          SET status = 'pending', message = EXCLUDED.message, created_at = now(), updated_at = now()
        WHERE friend_request.status <> 'pending'
       RETURNING ${COLUMNS}`,
      [randomId(), req.userId, target.userId, req.message ?? null],
    );
    if (rows.length === 0) throw refuse('friend_request_pending', 'a request to this user is already pending');
    return { request: toRequest(rows[0]), other: toProfile(target) };
  }

  /** Accepting puts each user in the other's list, together with the status change. */
  async answer(req: AnswerFriendRequestRequest): Promise<FriendRequestOutcome> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const named = req.requester.trim();
    if (!named) throw refuse('friend_request_target_required', 'requester is required');
    const requester = await this.resolveLocal(this.pool, named);
    if (!requester) throw refuse('user_not_found', 'unknown requester');

    const request = await withTransaction(this.pool, async (db) => {
      // Both list owners' rows, in a fixed order so two crossing accepts cannot deadlock; PUT
      // /api/friends takes the same lock, so no list update is lost (weakness §11.20).
      for (const userId of [req.userId, requester.userId].sort()) await identityStore.lockUser(db, userId);
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM friend_request WHERE from_user_id = $1 AND to_user_id = $2 FOR UPDATE`,
        [requester.userId, req.userId],
      );
      if (!rows[0]) throw refuse('friend_request_not_found', 'no request from this user');
      if (rows[0].status !== 'pending') throw refuse('friend_request_not_pending', `the request is already ${rows[0].status}`);
      if (req.accept) {
        await befriend(db, req.userId, requester.userId);
        await befriend(db, requester.userId, req.userId);
      }
      const updated = await db.query(
        `UPDATE friend_request SET status = $2, updated_at = now() WHERE request_id = $1 RETURNING ${COLUMNS}`,
        [rows[0].request_id, req.accept ? 'accepted' : 'rejected'],
      );
      return toRequest(updated.rows[0]);
    });
    return { request, other: toProfile(requester) };
  }

  /** A local user by id, then handle, then `handle@<our domain>`. */
  private async resolveLocal(db: Queryable, named: string): Promise<UserRow | undefined> {
    const direct = await identityStore.userByIdOrHandle(db, named);
    if (direct) return direct;
    const at = named.lastIndexOf('@');
    if (at <= 0) return undefined;
    const domain = named.slice(at + 1);
    if (domain !== '' && domain !== this.domain) return undefined;
    return identityStore.userByIdOrHandle(db, named.slice(0, at));
  }
}

async function befriend(db: PoolClient, userId: string, friendUserId: string): Promise<void> {
  if (await friendStore.isListed(db, userId, friendUserId)) return;
  if ((await friendStore.count(db, userId)) >= MAX_FRIENDS) throw refuse('friend_list_full', `a friend list holds at most ${MAX_FRIENDS} entries`);
  await friendStore.append(db, userId, friendUserId);
}
