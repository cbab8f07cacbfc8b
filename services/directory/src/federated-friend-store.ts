import type { PoolClient } from 'pg';
import type { FriendRequest } from '@commucat/contracts';
import type { Queryable } from './identity-store.js';
import type { RemoteUser } from './federated-id.js';

export type Direction = 'outgoing' | 'incoming';
export type RequestStatus = 'pending' | 'accepted' | 'rejected';

export interface FederatedRequestRow {
  id: string;
  direction: Direction;
  localUserId: string;
  remoteUser: string;
  remoteDomain: string;
  wireRequestId: string;
  status: RequestStatus;
  message: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, direction, local_user_id, remote_user, remote_domain, wire_request_id, status, message, created_at, updated_at';

const toRow = (r: Record<string, unknown>): FederatedRequestRow => ({
  id: r.id as string,
  direction: r.direction as Direction,
  localUserId: r.local_user_id as string,
  remoteUser: r.remote_user as string,
  remoteDomain: r.remote_domain as string,
  wireRequestId: r.wire_request_id as string,
  status: r.status as RequestStatus,
  message: r.message as string | null,
  createdAt: r.created_at as Date,
  updatedAt: r.updated_at as Date,
});

/** The row as the REST API shows a friend request: remote users appear as `handle@domain`. */
export function toFriendRequest(row: FederatedRequestRow): FriendRequest {
  const outgoing = row.direction === 'outgoing';
  return {
    id: row.id,
    fromUserId: outgoing ? row.localUserId : row.remoteUser,
    toUserId: outgoing ? row.remoteUser : row.localUserId,
    status: row.status,
    message: row.message ?? undefined,
    createdAt: row.createdAt.getTime(),
    updatedAt: row.updatedAt.getTime(),
  };
}

export interface OpenRequest {
  id: string;
  direction: Direction;
  localUserId: string;
  remote: RemoteUser;
  wireRequestId: string;
  message: string | null;
}

/** SQL of tables federated_friend_request and federated_friend_request_wire_id (migration 014). */
export const federatedFriendStore = {
  /** Pending incoming and all outgoing requests of a user, newest first. */
  async listFor(db: Queryable, localUserId: string): Promise<{ incoming: FederatedRequestRow[]; outgoing: FederatedRequestRow[] }> {
    const { rows } = await db.query(
      `SELECT ${COLUMNS} FROM federated_friend_request
        WHERE local_user_id = $1 AND (direction = 'outgoing' OR status = 'pending')
        ORDER BY created_at DESC, id`,
      [localUserId],
    );
    const all = rows.map(toRow);
    return { incoming: all.filter((r) => r.direction === 'incoming'), outgoing: all.filter((r) => r.direction === 'outgoing') };
  },

  /**
   * Opens the request of this direction between the two users: a new row, or an answered one
   * re-opened under the new wire id. `updatePending` decides what happens to a pending one:
   * false leaves it (undefined is returned), true moves it to the new wire id and message.
   */
  async open(db: PoolClient, request: OpenRequest, updatePending: boolean): Promise<FederatedRequestRow | undefined> {
    const { rows } = await db.query(
      `INSERT INTO federated_friend_request (id, direction, local_user_id, remote_user, remote_domain, wire_request_id, status, message)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
       ON CONFLICT (direction, local_user_id, remote_user) DO UPDATE
          SET wire_request_id = EXCLUDED.wire_request_id, message = EXCLUDED.message, status = 'pending',
              created_at = CASE WHEN federated_friend_request.status = 'pending' THEN federated_friend_request.created_at ELSE now() END,
              updated_at = now()
        WHERE federated_friend_request.status <> 'pending' OR $8::boolean
       RETURNING ${COLUMNS}`,
      [request.id, request.direction, request.localUserId, request.remote.id, request.remote.domain, request.wireRequestId, request.message, updatePending],
    );
    if (!rows[0]) return undefined;
    const row = toRow(rows[0]);
    await db.query(
      'INSERT INTO federated_friend_request_wire_id (direction, remote_domain, wire_request_id, request_id) VALUES ($1, $2, $3, $4)',
      [row.direction, row.remoteDomain, row.wireRequestId, row.id],
    );
    return row;
  },

  /** The row a wire request id was ever used for (also after a re-open). */
  async byWireId(db: Queryable, direction: Direction, remoteDomain: string, wireRequestId: string, forUpdate = false): Promise<FederatedRequestRow | undefined> {
    const { rows } = await db.query(
      `SELECT ${COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}
         FROM federated_friend_request_wire_id w JOIN federated_friend_request r ON r.id = w.request_id
        WHERE w.direction = $1 AND w.remote_domain = $2 AND w.wire_request_id = $3
        ${forUpdate ? 'FOR UPDATE OF r' : ''}`,
      [direction, remoteDomain, wireRequestId],
    );
    return rows[0] && toRow(rows[0]);
  },

  async between(db: PoolClient, direction: Direction, localUserId: string, remoteUser: string): Promise<FederatedRequestRow | undefined> {
    const { rows } = await db.query(
      `SELECT ${COLUMNS} FROM federated_friend_request WHERE direction = $1 AND local_user_id = $2 AND remote_user = $3 FOR UPDATE`,
      [direction, localUserId, remoteUser],
    );
    return rows[0] && toRow(rows[0]);
  },

  async setStatus(db: PoolClient, id: string, status: RequestStatus): Promise<FederatedRequestRow> {
    const { rows } = await db.query(
      `UPDATE federated_friend_request SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, status],
    );
    return toRow(rows[0]);
  },
};
