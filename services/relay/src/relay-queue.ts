import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '@commucat/storage';
import type { DrainPage, NewEnvelope, StoredEnvelope } from './envelope.js';
import {
  DEFAULT_DRAIN_LIMIT, DEFAULT_DRAIN_PAGE_BYTES, DEFAULT_PURGE_BATCH, DEFAULT_PURGE_INTERVAL_MS, MAX_DRAIN_LIMIT,
} from './limits.js';
import type { RelayMetrics } from './relay-metrics.js';
import { validateAcknowledge, validateDeviceId, validateEnqueue, validateSeq } from './validation.js';

export interface RelayQueueOptions {
  readonly pool: Pool;
  /** Lifetime of envelopes enqueued without their own ttl (limits.relay_ttl), in seconds. */
  readonly defaultTtlSeconds: number;
  readonly metrics: RelayMetrics;
  readonly logger: Logger;
  /** Pause between expiry purges (default 60 s). */
  readonly purgeIntervalMs?: number;
  /** Rows per purge DELETE (default 1000). */
  readonly purgeBatchSize?: number;
  /** Frame bytes per drain page before it is cut short (default 3 MiB; the first envelope always fits). */
  readonly drainPageBytes?: number;
}

/** Thrown inside the enqueue transaction when another enqueuer stored one of our messages first. */
class ConcurrentDuplicate extends Error {}

// A concurrent duplicate costs one rerun, after which the rerun sees the winner's rows; more
// attempts than this would mean something else is wrong.
const MAX_ENQUEUE_ATTEMPTS = 5;

// Below this many rows an exact count is cheap; above it the planner's estimate is good enough.
const EXACT_COUNT_BELOW = 100_000;

const ENVELOPE_COLUMNS = 'device_id, seq, message_id, channel_id, frame, sender_device_id, enqueued_at, expires_at';

// NUL cannot occur in ids (validation refuses it), so it separates the two parts unambiguously.
const keyOf = (deviceId: string, messageId: string): string => `${deviceId}\u0000${messageId}`;

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** An envelope accepted earlier and already acknowledged: seq 0 says "not queued, do not deliver". */
const alreadyDelivered = (envelope: NewEnvelope): StoredEnvelope => ({
  ...envelope, frame: asBuffer(envelope.frame), seq: 0, enqueuedAt: new Date(0), expiresAt: new Date(0),
});

interface EnvelopeRow {
  device_id: string;
  seq: string;
  message_id: string;
  channel_id: string;
  frame: Buffer;
  sender_device_id: string;
  enqueued_at: Date;
  expires_at: Date;
}

// node-pg returns BIGINT as a string; seqs and channel ids stay far below 2^53.
const envelopeOf = (row: EnvelopeRow): StoredEnvelope => ({
  deviceId: row.device_id,
  seq: Number(row.seq),
  messageId: row.message_id,
  channelId: Number(row.channel_id),
  frame: row.frame,
  senderDeviceId: row.sender_device_id,
  enqueuedAt: row.enqueued_at,
  expiresAt: row.expires_at,
});

interface EnqueueOutcome {
  envelopes: StoredEnvelope[];
  stored: number;
  duplicates: number;
}

/**
 * The durable per-device inbox in Postgres. Each device's envelopes carry a gap-free seq
 * allocated from `relay_inbox` under its row lock, so per device seq order is commit order and
 * a drain after seq N never misses an envelope committed later.
 */
export class RelayQueue {
  private readonly pool: Pool;
  private readonly defaultTtlSeconds: number;
  private readonly metrics: RelayMetrics;
  private readonly logger: Logger;
  private readonly purgeIntervalMs: number;
  private readonly purgeBatchSize: number;
  private readonly drainPageBytes: number;
  private purging = false;
  private purgeTimer: NodeJS.Timeout | undefined;
  private purgeCycleRunning: Promise<void> | undefined;

  constructor(options: RelayQueueOptions) {
    if (!(options.defaultTtlSeconds > 0)) throw new Error('defaultTtlSeconds must be positive');
    this.pool = options.pool;
    this.defaultTtlSeconds = options.defaultTtlSeconds;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.purgeIntervalMs = options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    this.purgeBatchSize = options.purgeBatchSize ?? DEFAULT_PURGE_BATCH;
    this.drainPageBytes = options.drainPageBytes ?? DEFAULT_DRAIN_PAGE_BYTES;
  }

  /**
   * Stores the envelopes in one transaction and returns them in request order with their seq.
   * An envelope whose (device_id, message_id) is still queued (or repeated within the request)
   * is not stored again: the stored one comes back, with its original seq. One that was accepted
   * before and has since been acknowledged comes back with seq 0 and is not stored again either,
   * so a sender's resend after a lost Ack never produces a second copy.
   */
  async enqueue(envelopes: readonly NewEnvelope[], ttlSeconds = 0): Promise<StoredEnvelope[]> {
    validateEnqueue(envelopes, ttlSeconds);
    if (envelopes.length === 0) return [];
    const ttl = ttlSeconds > 0 ? ttlSeconds : this.defaultTtlSeconds;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await withTransaction(this.pool, (client) => this.enqueueOnce(client, envelopes, ttl));
        this.metrics.enqueued.inc(outcome.stored);
        this.metrics.duplicates.inc(outcome.duplicates);
        return outcome.envelopes;
      } catch (err) {
        if (!(err instanceof ConcurrentDuplicate) || attempt >= MAX_ENQUEUE_ATTEMPTS) throw err;
      }
    }
  }

  private async enqueueOnce(client: PoolClient, envelopes: readonly NewEnvelope[], ttlSeconds: number): Promise<EnqueueOutcome> {
    const known = await this.findStored(client, envelopes);

    // Not queued now, once each, in request order (request order becomes seq order per device).
    const candidates: NewEnvelope[] = [];
    const candidateKeys = new Set<string>();
    for (const envelope of envelopes) {
      const key = keyOf(envelope.deviceId, envelope.messageId);
      if (known.has(key) || candidateKeys.has(key)) continue;
      candidateKeys.add(key);
      candidates.push(envelope);
    }
    const accepted = candidates.length > 0 ? await this.recordAcceptance(client, candidates, ttlSeconds) : new Set<string>();

    const fresh = candidates.filter((envelope) => accepted.has(keyOf(envelope.deviceId, envelope.messageId)));
    const conflicted = candidates.filter((envelope) => !accepted.has(keyOf(envelope.deviceId, envelope.messageId)));
    if (conflicted.length > 0) {
      // A concurrent enqueue that just committed them has them queued: this statement sees its
      // rows (read committed), so we answer with its seqs. What is still missing was acknowledged.
      for (const [key, stored] of await this.findStored(client, conflicted)) known.set(key, stored);
    }
    if (fresh.length > 0) {
      const freshPerDevice = new Map<string, NewEnvelope[]>();
      for (const envelope of fresh) {
        const list = freshPerDevice.get(envelope.deviceId);
        if (list) list.push(envelope);
        else freshPerDevice.set(envelope.deviceId, [envelope]);
      }
      const seqs = await this.allocateSeqs(client, freshPerDevice);
      const inserted = await this.insertFresh(client, fresh, seqs, ttlSeconds);
      // A row already there means another enqueuer committed it after findStored looked; the
      // seqs we took would leave a gap, so roll everything back and look again.
      if (inserted.length !== fresh.length) throw new ConcurrentDuplicate();
      for (const envelope of inserted) known.set(keyOf(envelope.deviceId, envelope.messageId), envelope);
    }

    return {
      envelopes: envelopes.map((envelope) => known.get(keyOf(envelope.deviceId, envelope.messageId)) ?? alreadyDelivered(envelope)),
      stored: fresh.length,
      duplicates: envelopes.length - fresh.length,
    };
  }

  /**
   * Remembers the envelopes as accepted and returns the keys that were new. A key that conflicts
   * was accepted before (its envelope since acknowledged) or by a concurrent enqueue, whose
   * commit this insert waits for.
   */
  private async recordAcceptance(client: PoolClient, envelopes: readonly NewEnvelope[], ttlSeconds: number): Promise<Set<string>> {
    const { rows } = await client.query<{ device_id: string; message_id: string }>(
      `INSERT INTO relay_accepted (device_id, message_id, expires_at)
       SELECT d, m, now() + $3::float8 * interval '1 second' FROM unnest($1::text[], $2::text[]) AS a(d, m)
       ON CONFLICT (device_id, message_id) DO NOTHING
       RETURNING device_id, message_id`,
      [envelopes.map((e) => e.deviceId), envelopes.map((e) => e.messageId), ttlSeconds],
    );
    return new Set(rows.map((row) => keyOf(row.device_id, row.message_id)));
  }

  private async findStored(client: PoolClient, envelopes: readonly NewEnvelope[]): Promise<Map<string, StoredEnvelope>> {
    const { rows } = await client.query<EnvelopeRow>(
      `SELECT ${ENVELOPE_COLUMNS.split(', ').map((c) => `q.${c}`).join(', ')}
         FROM relay_queue q
         JOIN unnest($1::text[], $2::text[]) AS k(device_id, message_id)
           ON q.device_id = k.device_id AND q.message_id = k.message_id`,
      [envelopes.map((e) => e.deviceId), envelopes.map((e) => e.messageId)],
    );
    return new Map(rows.map((row) => [keyOf(row.device_id, row.message_id), envelopeOf(row)]));
  }

  /**
   * Takes `count` seqs per device from relay_inbox. The upsert locks each device's allocator row
   * until commit, which serialises concurrent enqueuers of one device; devices are locked in a
   * fixed order so two multi-device batches cannot deadlock each other.
   */
  private async allocateSeqs(client: PoolClient, perDevice: Map<string, NewEnvelope[]>): Promise<Map<NewEnvelope, number>> {
    const deviceIds = [...perDevice.keys()];
    const { rows } = await client.query<{ device_id: string; next_seq: string }>(
      `INSERT INTO relay_inbox AS inbox (device_id, next_seq)
       SELECT d, n + 1 FROM unnest($1::text[], $2::bigint[]) AS a(d, n) ORDER BY d COLLATE "C"
       ON CONFLICT (device_id) DO UPDATE SET next_seq = inbox.next_seq + (EXCLUDED.next_seq - 1)
       RETURNING device_id, next_seq`,
      [deviceIds, deviceIds.map((id) => perDevice.get(id)!.length)],
    );
    const seqs = new Map<NewEnvelope, number>();
    for (const row of rows) {
      const list = perDevice.get(row.device_id)!;
      const first = Number(row.next_seq) - list.length;
      list.forEach((envelope, i) => seqs.set(envelope, first + i));
    }
    return seqs;
  }

  private async insertFresh(client: PoolClient, fresh: readonly NewEnvelope[], seqs: Map<NewEnvelope, number>, ttlSeconds: number): Promise<StoredEnvelope[]> {
    // One parameter per value (not arrays): node-pg sends a Buffer parameter as binary, while a
    // bytea[] would travel hex-encoded at twice the size.
    const params: unknown[] = [ttlSeconds];
    const rows = fresh.map((e) => {
      const at = params.length;
      params.push(e.deviceId, seqs.get(e)!, e.messageId, e.channelId, asBuffer(e.frame), e.senderDeviceId);
      return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6}, now() + $1::float8 * interval '1 second')`;
    });
    const { rows: inserted } = await client.query<EnvelopeRow>(
      `INSERT INTO relay_queue (device_id, seq, message_id, channel_id, frame, sender_device_id, expires_at)
       VALUES ${rows.join(', ')}
       ON CONFLICT (device_id, message_id) DO NOTHING
       RETURNING ${ENVELOPE_COLUMNS}`,
      params,
    );
    return inserted.map(envelopeOf);
  }

  /**
   * One page of the device's unexpired envelopes after `afterSeq`, ascending. `limit` 0 means
   * 256, larger than 1000 means 1000; the page also ends early once its frames would pass the
   * byte budget. Nothing is removed.
   */
  async drain(deviceId: string, afterSeq = 0, limit = 0): Promise<DrainPage> {
    validateDeviceId(deviceId);
    validateSeq(afterSeq, 'after_seq');
    validateSeq(limit, 'limit');
    const pageSize = limit === 0 ? DEFAULT_DRAIN_LIMIT : Math.min(limit, MAX_DRAIN_LIMIT);
    // The inner query reads at most one row beyond the page (that row answers `more`); the
    // window sums frame sizes without reading the frames (octet_length reads the TOAST header).
    const { rows } = await this.pool.query<EnvelopeRow & { candidates: string }>(
      `SELECT ${ENVELOPE_COLUMNS}, candidates
         FROM (SELECT page.*,
                      row_number() OVER w AS position,
                      sum(octet_length(page.frame)) OVER w AS bytes_through,
                      count(*) OVER () AS candidates
                 FROM (SELECT ${ENVELOPE_COLUMNS}
                         FROM relay_queue
                        WHERE device_id = $1 AND seq > $2::bigint AND expires_at > now()
                        ORDER BY seq
                        LIMIT $3::int + 1) AS page
               WINDOW w AS (ORDER BY page.seq)) AS ranked
        WHERE position <= $3::int AND (position = 1 OR bytes_through <= $4::bigint)
        ORDER BY seq`,
      [deviceId, afterSeq, pageSize, this.drainPageBytes],
    );
    const candidates = rows.length > 0 ? Number(rows[0]!.candidates) : 0;
    return { envelopes: rows.map(envelopeOf), more: candidates > rows.length };
  }

  /**
   * Deletes the device's envelopes with seq <= upToSeq (when > 0) and those listed in `seqs`;
   * returns how many were removed. Acknowledging again removes nothing more.
   */
  async acknowledge(deviceId: string, upToSeq = 0, seqs: readonly number[] = []): Promise<number> {
    validateAcknowledge(deviceId, upToSeq, seqs);
    if (upToSeq === 0 && seqs.length === 0) return 0;
    // seq > 0 always, so `seq <= 0` matches nothing when there is no cumulative part.
    const { rowCount } = await this.pool.query(
      'DELETE FROM relay_queue WHERE device_id = $1 AND (seq <= $2::bigint OR seq = ANY($3::bigint[]))',
      [deviceId, upToSeq, seqs],
    );
    const removed = rowCount ?? 0;
    this.metrics.acknowledged.inc(removed);
    return removed;
  }

  /** Unexpired envelopes waiting for the device. */
  async depth(deviceId: string): Promise<number> {
    validateDeviceId(deviceId);
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM relay_queue WHERE device_id = $1 AND expires_at > now()',
      [deviceId],
    );
    return Number(rows[0]!.n);
  }

  /**
   * Deletes expired envelopes in batches of `purgeBatchSize`, each its own short statement, so a
   * large backlog never becomes one long transaction. SKIP LOCKED lets several replicas purge
   * side by side. Returns how many were deleted.
   */
  purgeExpired(): Promise<number> {
    return this.purgeBatches(() => true);
  }

  private async purgeBatches(keepGoing: () => boolean): Promise<number> {
    const total = await this.purgeTable('relay_queue', keepGoing);
    this.metrics.expired.inc(total);
    // Acceptance records live as long as their envelopes could: past that a resend is new.
    if (keepGoing()) await this.purgeTable('relay_accepted', keepGoing);
    return total;
  }

  private async purgeTable(table: 'relay_queue' | 'relay_accepted', keepGoing: () => boolean): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.pool.query(
        `DELETE FROM ${table}
          WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))`,
        [this.purgeBatchSize],
      );
      const deleted = rowCount ?? 0;
      total += deleted;
      // A stop request ends the purge between batches; the next cycle continues where it ended.
      if (deleted < this.purgeBatchSize || !keepGoing()) return total;
    }
  }

  /** Sets the queue-depth gauge: exact for small queues, the planner's estimate for large ones. */
  async refreshDepthGauge(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT CASE WHEN c.reltuples < $1 THEN (SELECT count(*) FROM relay_queue) ELSE c.reltuples::bigint END AS n
         FROM pg_class c
        WHERE c.oid = 'relay_queue'::regclass`,
      [EXACT_COUNT_BELOW],
    );
    const depth = Number(rows[0]!.n);
    this.metrics.queueDepth.set(depth);
    return depth;
  }

  /** Purges (and refreshes the gauge) now, then every purgeIntervalMs until stopPurging(). */
  startPurging(): void {
    if (this.purging) return;
    this.purging = true;
    this.runPurgeCycle();
  }

  /** Stops the loop and waits for a purge in progress to finish its current batch. */
  async stopPurging(): Promise<void> {
    this.purging = false;
    clearTimeout(this.purgeTimer);
    this.purgeTimer = undefined;
    await this.purgeCycleRunning;
  }

  private runPurgeCycle(): void {
    this.purgeCycleRunning = this.purgeCycle().finally(() => {
      this.purgeCycleRunning = undefined;
      if (!this.purging) return;
      this.purgeTimer = setTimeout(() => this.runPurgeCycle(), this.purgeIntervalMs);
      // The loop alone must not keep a process alive.
      this.purgeTimer.unref();
    });
  }

  private async purgeCycle(): Promise<void> {
    try {
      const deleted = await this.purgeBatches(() => this.purging);
      if (deleted > 0) this.logger.info({ deleted }, 'purged expired relay envelopes');
      await this.refreshDepthGauge();
    } catch (err) {
      // The next cycle tries again; a failing database also shows on /readyz.
      this.logger.warn({ err }, 'relay expiry purge failed');
    }
  }
}
