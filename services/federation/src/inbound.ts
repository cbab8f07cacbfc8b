import { ed25519Verify } from '@commucat/crypto';
import { withTransaction, type PgPool } from '@commucat/storage';
import { FederationError } from './errors.js';
import { createdAtNanos, eventDigest } from './event-digest.js';
import type { FederationMetrics } from './federation-metrics.js';
import type { FederationPeer, PeerDirectory } from './peers.js';
import { parseSignedEvent, type SignedEvent } from './signed-event.js';

/**
 * Hands a verified event to the rest of the fleet (the router, the directory); throwing means
 * "not processed": a FederationError refuses the event for good, anything else is delivery_failed.
 */
export interface InboundDelivery {
  deliver(event: SignedEvent, peer: FederationPeer): Promise<void>;
}

export interface InboundOptions {
  readonly pool: PgPool;
  readonly peers: PeerDirectory;
  readonly delivery: InboundDelivery;
  /** This server's domain: an event's `scope` must name it, so a peer cannot forward another domain's events to us. */
  readonly localDomain: string;
  /** How far created_at may be from now, either way (default 300 s). */
  readonly freshnessSeconds?: number;
  /** How long processed ids are kept; at least twice the freshness window so a replay is always caught. */
  readonly retentionSeconds?: number;
  readonly metrics?: FederationMetrics;
  readonly now?: () => Date;
}

export type InboundResult = { readonly status: 'accepted' | 'duplicate'; readonly eventId: string; readonly peer: string };

/**
 * Inbound events (spec §5.4 with §11.13 fixed): allow-listed peer, then signature, then freshness,
 * then scope (addressed to us), then replay; the processed-id record commits with the delivery, so a failed delivery can be retried.
 */
export class InboundProcessor {
  private readonly freshnessNanos: bigint;
  readonly retentionSeconds: number;
  private readonly now: () => Date;

  constructor(private readonly options: InboundOptions) {
    const freshness = options.freshnessSeconds ?? 300;
    this.freshnessNanos = BigInt(freshness) * 1_000_000_000n;
    this.retentionSeconds = Math.max(options.retentionSeconds ?? 86400, 2 * freshness);
    this.now = options.now ?? (() => new Date());
  }

  async receive(body: string | Uint8Array): Promise<InboundResult> {
    try {
      const result = await this.process(body);
      (result.status === 'accepted' ? this.options.metrics?.inboundAccepted : this.options.metrics?.inboundDuplicate)?.inc();
      return result;
    } catch (error) {
      if (error instanceof FederationError) this.options.metrics?.inboundRejected.inc({ reason: error.code });
      throw error;
    }
  }

  private async process(body: string | Uint8Array): Promise<InboundResult> {
    const signed = parseSignedEvent(body);
    const { event } = signed;
    const peer = this.options.peers.find(event.origin);
    if (!peer) throw new FederationError('unknown_peer', `origin ${event.origin} is not an allowed peer`);

    const digest = eventDigest(event);
    if (!digest.equals(Buffer.from(signed.digest)) || !ed25519Verify(peer.publicKey, digest, signed.signature)) {
      throw new FederationError('bad_signature', 'signature does not verify with the peer key');
    }

    const created = createdAtNanos(event.created_at);
    const nowNanos = BigInt(this.now().getTime()) * 1_000_000n;
    const skew = created === undefined ? undefined : created > nowNanos ? created - nowNanos : nowNanos - created;
    if (skew === undefined || skew > this.freshnessNanos) throw new FederationError('stale', 'created_at is outside the freshness window');

    if (event.scope.toLowerCase() !== this.options.localDomain.toLowerCase()) {
      throw new FederationError('wrong_scope', `event is addressed to ${event.scope}`);
    }

    const peerKey = peer.domain.toLowerCase();
    return withTransaction(this.options.pool, async (client) => {
      // A concurrent insert of the same id waits on this row lock until we commit or roll back,
      // so the same event is never delivered twice at once.
      const inserted = await client.query(
        `INSERT INTO federation_inbound (peer, event_id, digest) VALUES ($1, $2, $3)
         ON CONFLICT (peer, event_id) DO NOTHING RETURNING event_id`,
        [peerKey, event.event_id, digest],
      );
      if (inserted.rowCount === 0) {
        const existing = await client.query<{ digest: Buffer }>('SELECT digest FROM federation_inbound WHERE peer = $1 AND event_id = $2', [peerKey, event.event_id]);
        // The same signed content again is a sender retry; a reused id with other content is a replay.
        if (existing.rows[0]?.digest.equals(digest)) return { status: 'duplicate' as const, eventId: event.event_id, peer: peerKey };
        throw new FederationError('replay', 'event id was already used for another event');
      }
      try {
        await this.options.delivery.deliver(signed, peer);
      } catch (cause) {
        // A refusal of the event itself (bad target, not permitted) is final and keeps its code.
        if (cause instanceof FederationError) throw cause;
        // Rolling back drops the record, so the peer's retry is processed (§11.13).
        throw new FederationError('delivery_failed', `delivery failed: ${cause instanceof Error ? cause.message : String(cause)}`);
      }
      return { status: 'accepted' as const, eventId: event.event_id, peer: peerKey };
    });
  }

  /** Deletes processed ids older than the retention window; returns how many. */
  async prune(): Promise<number> {
    const result = await this.options.pool.query(
      `DELETE FROM federation_inbound WHERE processed_at < $1::timestamptz - make_interval(secs => $2)`,
      [this.now(), this.retentionSeconds],
    );
    return result.rowCount ?? 0;
  }
}
