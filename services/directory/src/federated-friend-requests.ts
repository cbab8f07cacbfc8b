import type { Pool } from 'pg';
import type { FederatedFriendAck, FederatedFriendAnswer, FederatedFriendRequest, FriendRequestOutcome } from '@commucat/contracts';
import { withTransaction } from '@commucat/storage';
import { refuse } from './directory-errors.js';
import { federatedFriendStore, toFriendRequest, type FederatedRequestRow } from './federated-friend-store.js';
import { parseRemoteUser, type RemoteUser } from './federated-id.js';
import type { FederationOutbox } from './federation-outbox.js';
import { MAX_FRIENDS } from './friend-service.js';
import { befriend, checkMessage, resolveLocalUser } from './friend-request-rules.js';
import { friendStore } from './friend-store.js';
import { identityStore } from './identity-store.js';
import { randomId } from './random-id.js';

// Ids chosen by peers are stored and echoed back; bound them like other client-chosen text.
const MAX_WIRE_ID_LENGTH = 256;

/**
 * Friend requests with users of other domains (spec rest-storage-ops §5.5). Every change a peer
 * must hear about is enqueued on the federation outbox inside the transaction that records it,
 * so a request is stored exactly when its event is queued. Events from peers arrive through the
 * federation service, which has verified the origin's signature.
 */
export class FederatedFriendRequests {
  constructor(
    private readonly pool: Pool,
    /** server.domain, for the `from` of our events. */
    private readonly domain: string,
    private readonly outbox: FederationOutbox,
  ) {}

  /** A local user asks `handle@domain`; a pending request to them is refused, an answered one re-opens. */
  async create(userId: string, target: string, message: string | undefined): Promise<FriendRequestOutcome> {
    const remote = parseRemoteUser(target);
    if (!remote) throw refuse('federated_id_invalid', 'target must be handle@domain');
    checkMessage(message);
    // Chosen once, outside the transaction: a retried transaction enqueues the same event again.
    const wireRequestId = randomId();
    const id = randomId();
    const { row, self } = await withTransaction(this.pool, async (db) => {
      const caller = await identityStore.userById(db, userId);
      if (!caller) throw refuse('user_not_found', 'unknown user');
      const self = `${caller.handle}@${this.domain}`;
      const opened = await federatedFriendStore.open(db, {
        id, direction: 'outgoing', localUserId: userId, remote, wireRequestId, message: message ?? null,
      }, false);
      if (!opened) throw refuse('friend_request_pending', 'a request to this user is already pending');
      await this.outbox.enqueue({
        peer: remote.domain, eventType: 'friend_request',
        idempotencyKey: `friend_request:${wireRequestId}`, orderKey: `friend:${userId}`,
        payload: {
          type: 'friend_request', request_id: wireRequestId, from: self, to: remote.id,
          message: message ?? null, timestamp: new Date().toISOString(),
        },
      });
      return { row: opened, self };
    });
    return { ...outcome(row), federatedSelf: self };
  }

  /** The caller answers the pending request `handle@domain` sent; accepting lists them at once. */
  async answer(userId: string, requester: string, accept: boolean): Promise<FriendRequestOutcome> {
    const remote = parseRemoteUser(requester);
    if (!remote) throw refuse('federated_id_invalid', 'requester must be handle@domain');
    const row = await withTransaction(this.pool, async (db) => {
      // The caller's row lock serialises every writer of the caller's friend list (§11.20).
      const caller = await identityStore.lockUser(db, userId);
      if (!caller) throw refuse('user_not_found', 'unknown user');
      const pending = await federatedFriendStore.between(db, 'incoming', userId, remote.id);
      if (!pending) throw refuse('friend_request_not_found', 'no request from this user');
      if (pending.status !== 'pending') throw refuse('friend_request_not_pending', `the request is already ${pending.status}`);
      if (accept) await befriend(db, userId, remote.id);
      const status = accept ? 'accepted' : 'rejected';
      const answered = await federatedFriendStore.setStatus(db, pending.id, status);
      await this.outbox.enqueue({
        peer: pending.remoteDomain, eventType: 'friend_answer',
        idempotencyKey: `friend_answer:${pending.wireRequestId}`, orderKey: `friend:${userId}`,
        payload: {
          type: 'friend_answer', request_id: pending.wireRequestId, from: `${caller.handle}@${this.domain}`, to: pending.remoteUser,
          status, timestamp: new Date().toISOString(),
        },
      });
      return answered;
    });
    return outcome(row);
  }

  async list(userId: string): Promise<{ incoming: FederatedRequestRow[]; outgoing: FederatedRequestRow[] }> {
    return federatedFriendStore.listFor(this.pool, userId);
  }

  /**
   * A peer's user asks a local user. The same (origin, request_id) again changes nothing
   * (applied=false, never an error: §11.14); a new request while one is pending replaces it.
   */
  async receiveRequest(req: FederatedFriendRequest): Promise<FederatedFriendAck> {
    const { origin, from } = this.checkSender(req.origin, req.from, req.requestId);
    checkMessage(req.message);
    const target = req.to.trim() ? await resolveLocalUser(this.pool, req.to.trim(), this.domain) : undefined;
    if (!target) throw refuse('user_not_found', 'to names no local user');
    return withTransaction(this.pool, async (db) => {
      // Serialises deliveries to this user, so a duplicate arriving twice at once is seen as one.
      await identityStore.lockUser(db, target.userId);
      const seen = await federatedFriendStore.byWireId(db, 'incoming', origin, req.requestId);
      if (seen) return { requestId: seen.id, applied: false };
      const row = await federatedFriendStore.open(db, {
        id: randomId(), direction: 'incoming', localUserId: target.userId, remote: from, wireRequestId: req.requestId, message: req.message ?? null,
      }, true);
      return { requestId: row!.id, applied: true };
    });
  }

  /**
   * A peer's user answers a request a local user sent. Accepting lists them in the local user's
   * list in the same transaction; a full list (512) keeps the answer but not the entry, since
   * refusing a fact from the peer would only make it retry forever.
   */
  async receiveAnswer(req: FederatedFriendAnswer): Promise<FederatedFriendAck> {
    const { origin, from } = this.checkSender(req.origin, req.from, req.requestId);
    if (req.status !== 'accepted' && req.status !== 'rejected') throw refuse('federated_status_invalid', 'status must be accepted or rejected');
    const sent = await federatedFriendStore.byWireId(this.pool, 'outgoing', origin, req.requestId);
    if (!sent || sent.remoteUser !== from.id) throw refuse('friend_request_not_found', 'no such request to this user');
    return withTransaction(this.pool, async (db) => {
      await identityStore.lockUser(db, sent.localUserId);
      const row = (await federatedFriendStore.byWireId(db, 'outgoing', origin, req.requestId, true))!;
      // Answered already, or an answer to a request that has since been re-opened under a new id.
      if (row.status !== 'pending' || row.wireRequestId !== req.requestId) return { requestId: row.id, applied: false };
      await federatedFriendStore.setStatus(db, row.id, req.status as 'accepted' | 'rejected');
      if (req.status === 'accepted' && (await friendStore.count(db, row.localUserId)) < MAX_FRIENDS) {
        await friendStore.append(db, row.localUserId, row.remoteUser);
      }
      return { requestId: row.id, applied: true };
    });
  }

  /** origin (lowercased) and `from`, which must be a user of that origin. */
  private checkSender(rawOrigin: string, rawFrom: string, requestId: string): { origin: string; from: RemoteUser } {
    if (!requestId || requestId.length > MAX_WIRE_ID_LENGTH) throw refuse('federated_request_id_required', `request_id must be 1–${MAX_WIRE_ID_LENGTH} characters`);
    const origin = rawOrigin.trim().toLowerCase();
    const from = parseRemoteUser(rawFrom.trim());
    if (!origin || !from || from.domain !== origin) throw refuse('federated_from_mismatch', 'from must be handle@origin');
    return { origin, from };
  }
}

const outcome = (row: FederatedRequestRow): FriendRequestOutcome => ({
  request: toFriendRequest(row), other: undefined, federationDomain: row.remoteDomain,
});
