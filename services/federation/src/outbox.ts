import { randomUUID } from 'node:crypto';
import { parseJson } from '@commucat/ccp1';
import { withTransaction, type PgPool } from '@commucat/storage';
import { FederationError } from './errors.js';

export type OutboxState = 'pending' | 'in_flight' | 'delivered' | 'dead';

export interface OutboxRow {
  readonly id: string;
  readonly peer: string;
  readonly eventType: string;
  readonly eventId: string;
  /** The payload JSON text as enqueued (parsed u64-exactly when sent). */
  readonly payload: string;
  readonly attempts: number;
}

export interface EnqueueInput {
  readonly peer: string;
  readonly eventType: string;
  readonly payloadJson: string;
  readonly idempotencyKey: string;
  /** Rows with the same key reach the peer one at a time, in enqueue order; default: the idempotency key. */
  readonly orderKey?: string;
}

export interface OutboxSummary {
  readonly counts: Record<OutboxState, number>;
  readonly dead: readonly { id: string; peer: string; eventType: string; attempts: number; lastError: string | null }[];
}

interface ClaimRow {
  id: string;
  peer: string;
  event_type: string;
  event_id: string;
  payload: string;
  attempts: number;
}

/** The durable outbound queue (§5.6 fixed: one typed table, leases, max attempts, dead letters). */
export class OutboxStore {
  constructor(private readonly pool: PgPool) {}

  /** Stores an event once per (peer, idempotency key); a repeat returns the first row's id. */
  async enqueue(input: EnqueueInput): Promise<{ id: string; eventId: string; created: boolean }> {
    if (!input.peer || !input.eventType || !input.idempotencyKey) throw new FederationError('invalid_argument', 'peer, event type and idempotency key are required');
    try {
      parseJson(input.payloadJson);
    } catch {
      throw new FederationError('invalid_argument', 'payload must be JSON');
    }
    const peer = input.peer.toLowerCase();
    const inserted = await this.pool.query<{ id: string; event_id: string }>(
      `INSERT INTO federation_outbox (peer, event_type, idempotency_key, event_id, order_key, payload) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (peer, idempotency_key) DO NOTHING RETURNING id, event_id`,
      [peer, input.eventType, input.idempotencyKey, randomUUID(), input.orderKey || input.idempotencyKey, input.payloadJson],
    );
    if (inserted.rows[0]) return { id: inserted.rows[0].id, eventId: inserted.rows[0].event_id, created: true };
    const existing = await this.pool.query<{ id: string; event_id: string }>(
      'SELECT id, event_id FROM federation_outbox WHERE peer = $1 AND idempotency_key = $2',
      [peer, input.idempotencyKey],
    );
    return { id: existing.rows[0]!.id, eventId: existing.rows[0]!.event_id, created: false };
  }

  /**
   * Claims due rows for the configured peers, keeping at most `perPeerLimit` rows of a peer in
   * flight cluster-wide. Only the oldest open row of each order key is a candidate, so a row
   * backing off holds the ones behind it with the same key (that target's order is kept) while
   * other keys go ahead.
   */
  async claim(options: { peers: readonly string[]; perPeerLimit: number; leaseSeconds: number; maxPeers?: number }): Promise<OutboxRow[]> {
    return withTransaction(this.pool, async (client) => {
      // Rows of a replica that died mid-send become claimable again.
      await client.query(`UPDATE federation_outbox SET state = 'pending', lease_until = NULL WHERE state = 'in_flight' AND lease_until < now()`);
      // Only peers this process is configured for: rows of a peer dropped from the config wait
      // (visible in the summary) instead of being dead-lettered by a replica with an older config.
      const peers = await client.query<{ peer: string }>(
        `SELECT DISTINCT peer FROM federation_outbox WHERE state = 'pending' AND next_attempt_at <= now() AND peer = ANY($2::text[]) LIMIT $1`,
        [options.maxPeers ?? 64, options.peers.map((p) => p.toLowerCase())],
      );
      const claimed: OutboxRow[] = [];
      for (const { peer } of peers.rows) {
        // One claimer per peer at a time across replicas, so the in-flight count it sees is true.
        const lock = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('federation-outbox:' || $1)) AS ok`, [peer]);
        if (!lock.rows[0]?.ok) continue;
        const busy = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM federation_outbox WHERE peer = $1 AND state = 'in_flight'`, [peer]);
        const room = options.perPeerLimit - (busy.rows[0]?.n ?? 0);
        if (room <= 0) continue;
        const ready = await client.query<ClaimRow>(
          `WITH heads AS (
             SELECT DISTINCT ON (order_key) id, state, next_attempt_at
               FROM federation_outbox WHERE peer = $1 AND state IN ('pending', 'in_flight')
              ORDER BY order_key, id)
           UPDATE federation_outbox o SET state = 'in_flight', attempts = o.attempts + 1, lease_until = now() + make_interval(secs => $3)
            WHERE o.id IN (SELECT id FROM heads WHERE state = 'pending' AND next_attempt_at <= now() ORDER BY id LIMIT $2)
           RETURNING o.id, o.peer, o.event_type, o.event_id, o.payload, o.attempts`,
          [peer, room, options.leaseSeconds],
        );
        for (const row of [...ready.rows].sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)))) {
          claimed.push({ id: row.id, peer: row.peer, eventType: row.event_type, eventId: row.event_id, payload: row.payload, attempts: row.attempts });
        }
      }
      return claimed;
    });
  }

  // The outcome of an attempt applies only while the row is still that attempt: if its lease ran
  // out and another replica reclaimed it (attempts moved on), the late answer is dropped.
  async markDelivered(row: OutboxRow): Promise<void> {
    await this.pool.query(
      `UPDATE federation_outbox SET state = 'delivered', lease_until = NULL, last_error = NULL, finished_at = now()
       WHERE id = $1 AND state = 'in_flight' AND attempts = $2`,
      [row.id, row.attempts],
    );
  }

  async markRetry(row: OutboxRow, delayMs: number, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE federation_outbox SET state = 'pending', lease_until = NULL, last_error = $4,
         next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1 AND state = 'in_flight' AND attempts = $2`,
      [row.id, row.attempts, delayMs / 1000, error.slice(0, 500)],
    );
  }

  async markDead(row: OutboxRow, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE federation_outbox SET state = 'dead', lease_until = NULL, last_error = $3, finished_at = now()
       WHERE id = $1 AND state = 'in_flight' AND attempts = $2`,
      [row.id, row.attempts, error.slice(0, 500)],
    );
  }

  /** Deletes delivered rows finished more than `olderThanSeconds` ago; dead letters stay for the operator. */
  async pruneDelivered(olderThanSeconds: number): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM federation_outbox WHERE state = 'delivered' AND finished_at < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    );
    return result.rowCount ?? 0;
  }

  async summary(deadLimit = 50): Promise<OutboxSummary> {
    const counts: Record<OutboxState, number> = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
    const rows = await this.pool.query<{ state: OutboxState; n: string }>('SELECT state, count(*) AS n FROM federation_outbox GROUP BY state');
    for (const row of rows.rows) counts[row.state] = Number(row.n);
    const dead = await this.pool.query<{ id: string; peer: string; event_type: string; attempts: number; last_error: string | null }>(
      `SELECT id, peer, event_type, attempts, last_error FROM federation_outbox WHERE state = 'dead' ORDER BY id DESC LIMIT $1`,
      [deadLimit],
    );
    return {
      counts,
      dead: dead.rows.map((r) => ({ id: r.id, peer: r.peer, eventType: r.event_type, attempts: r.attempts, lastError: r.last_error })),
    };
  }
}
