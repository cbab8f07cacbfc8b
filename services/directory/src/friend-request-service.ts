import type { Pool } from 'pg';
import type {
  AnswerFriendRequestRequest, CreateFriendRequestRequest, FriendRequest, FriendRequestOutcome,
  ListFriendRequestsRequest, ListFriendRequestsResponse,
} from '@commucat/contracts';
import { withTransaction } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { toFriendRequest } from './federated-friend-store.js';
import type { FederatedFriendRequests } from './federated-friend-requests.js';
import { foreignDomainOf } from './federated-id.js';
import { befriend, checkMessage, resolveLocalUser } from './friend-request-rules.js';
import { identityStore, toProfile } from './identity-store.js';
import { randomId } from './random-id.js';

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

const newestFirst = (a: FriendRequest, b: FriendRequest): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Friend requests (table friend_request, migration 010). A target or requester `handle@domain`
 * of another domain is federated: handed to FederatedFriendRequests, listed with the local ones.
 */
export class FriendRequestService {
  constructor(
    private readonly pool: Pool,
    /** server.domain: `handle@<this domain>` names a local user too. */
    private readonly domain: string,
    private readonly federated: FederatedFriendRequests,
  ) {}

  async list(req: ListFriendRequestsRequest): Promise<ListFriendRequestsResponse> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const [incoming, outgoing, federated] = await Promise.all([
      this.pool.query(`SELECT ${COLUMNS} FROM friend_request WHERE to_user_id = $1 AND status = 'pending' ORDER BY created_at DESC, request_id`, [req.userId]),
      this.pool.query(`SELECT ${COLUMNS} FROM friend_request WHERE from_user_id = $1 ORDER BY created_at DESC, request_id`, [req.userId]),
      this.federated.list(req.userId),
    ]);
    return {
      incoming: [...incoming.rows.map(toRequest), ...federated.incoming.map(toFriendRequest)].sort(newestFirst),
      outgoing: [...outgoing.rows.map(toRequest), ...federated.outgoing.map(toFriendRequest)].sort(newestFirst),
    };
  }

  /** Asks `target`; asking again after an answer re-opens the request as a new one. */
  async create(req: CreateFriendRequestRequest): Promise<FriendRequestOutcome> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    const named = req.target.trim();
    if (!named) throw refuse('friend_request_target_required', 'target is required');
    if (named === req.userId) throw refuse('friend_request_to_self', 'cannot befriend yourself');
    checkMessage(req.message);
    if (foreignDomainOf(named, this.domain) !== undefined) return this.federated.create(req.userId, named, req.message);
    if (!(await identityStore.userById(this.pool, req.userId))) throw refuse('user_not_found', 'unknown user');
    const target = await resolveLocalUser(this.pool, named, this.domain);
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
    if (foreignDomainOf(named, this.domain) !== undefined) return this.federated.answer(req.userId, named, req.accept);
    const requester = await resolveLocalUser(this.pool, named, this.domain);
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
}
