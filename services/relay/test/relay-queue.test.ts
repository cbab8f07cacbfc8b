import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createPgPool } from '@commucat/storage';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import type { NewEnvelope } from '../src/envelope';
import { RelayError } from '../src/errors';
import { MAX_FRAME_BYTES } from '../src/limits';
import { relayMetrics, type RelayMetrics } from '../src/relay-metrics';
import { RelayQueue, type RelayQueueOptions } from '../src/relay-queue';

const logger = pino({ level: 'silent' });
let db: MigratedSchema;
beforeAll(async () => { db = await migratedSchema('relay'); });
afterAll(() => db.drop());

function newQueue(overrides: Partial<RelayQueueOptions> = {}): { queue: RelayQueue; metrics: RelayMetrics; registry: Registry } {
  const registry = new Registry();
  const metrics = relayMetrics(registry);
  return { queue: new RelayQueue({ pool: db.pool, defaultTtlSeconds: 3600, metrics, logger, ...overrides }), metrics, registry };
}

/** A device id no other test uses, so tests share the schema without seeing each other's rows. */
const freshDevice = (): string => `dev-${randomBytes(6).toString('hex')}`;

const envelope = (deviceId: string, messageId: string, frame: Buffer = Buffer.from(`frame:${messageId}`)): NewEnvelope => ({
  deviceId, messageId, channelId: 7, frame, senderDeviceId: 'sender-1',
});

const counterValue = async (registry: Registry, name: string): Promise<number> => {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
};

async function rowsOf(deviceId: string): Promise<{ seq: number; message_id: string }[]> {
  const { rows } = await db.pool.query('SELECT seq, message_id FROM relay_queue WHERE device_id = $1 ORDER BY seq', [deviceId]);
  return rows.map((r) => ({ seq: Number(r.seq), message_id: r.message_id as string }));
}

const expire = (deviceId: string, seqs: number[]) =>
  db.pool.query(`UPDATE relay_queue SET expires_at = now() - interval '1 second' WHERE device_id = $1 AND seq = ANY($2::bigint[])`, [deviceId, seqs]);

describe('enqueue and drain', () => {
  test('seqs follow request order per device; drain returns them oldest first with every field', async () => {
    const { queue } = newQueue();
    const a = freshDevice();
    const b = freshDevice();
    const before = Date.now();
    const stored = await queue.enqueue([envelope(a, 'm1'), envelope(b, 'm2'), envelope(a, 'm3'), envelope(a, 'm4')], 120);
    expect(stored.map((e) => [e.deviceId, e.messageId, e.seq])).toEqual([[a, 'm1', 1], [b, 'm2', 1], [a, 'm3', 2], [a, 'm4', 3]]);
    const second = await queue.enqueue([envelope(b, 'm5'), envelope(a, 'm6')]);
    expect(second.map((e) => e.seq)).toEqual([2, 4]);

    const page = await queue.drain(a);
    expect(page.more).toBe(false);
    expect(page.envelopes.map((e) => [e.seq, e.messageId])).toEqual([[1, 'm1'], [2, 'm3'], [3, 'm4'], [4, 'm6']]);
    const first = page.envelopes[0]!;
    expect(first).toMatchObject({ deviceId: a, channelId: 7, senderDeviceId: 'sender-1' });
    expect(first.frame.equals(Buffer.from('frame:m1'))).toBe(true);
    // the request's ttl (120 s) for the first batch, the configured one (3600 s) for the second
    expect(first.expiresAt.getTime() - first.enqueuedAt.getTime()).toBe(120_000);
    expect(page.envelopes[3]!.expiresAt.getTime() - page.envelopes[3]!.enqueuedAt.getTime()).toBe(3_600_000);
    expect(first.enqueuedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);

    // drain does not remove anything
    expect((await queue.drain(a, 2)).envelopes.map((e) => e.seq)).toEqual([3, 4]);
    expect(await queue.depth(a)).toBe(4);
    expect(await queue.depth(b)).toBe(2);
    expect(await queue.depth(freshDevice())).toBe(0);
  });

  test('re-enqueueing the same message returns the stored envelope with its seq, stores nothing and leaves no gap', async () => {
    const { queue, registry } = newQueue();
    const d = freshDevice();
    const [first] = await queue.enqueue([envelope(d, 'dup')]);
    // a retry, even with different bytes, gets the original back
    const retried = await queue.enqueue([envelope(d, 'dup', Buffer.from('other bytes')), envelope(d, 'next')]);
    expect(retried[0]).toEqual(first);
    expect(retried[1]!.seq).toBe(2);
    // the same message twice in one request is stored once
    const twice = await queue.enqueue([envelope(d, 'x'), envelope(d, 'x'), envelope(d, 'y')]);
    expect(twice.map((e) => e.seq)).toEqual([3, 3, 4]);
    expect(await rowsOf(d)).toEqual([
      { seq: 1, message_id: 'dup' }, { seq: 2, message_id: 'next' }, { seq: 3, message_id: 'x' }, { seq: 4, message_id: 'y' },
    ]);
    expect(await counterValue(registry, 'commucat_relay_enqueued_total')).toBe(4);
    expect(await counterValue(registry, 'commucat_relay_duplicates_total')).toBe(2);
    // an all-duplicate batch takes no seq either
    await queue.enqueue([envelope(d, 'y')]);
    expect((await queue.enqueue([envelope(d, 'z')]))[0]!.seq).toBe(5);
  });

  test('four concurrent enqueuers of one device get unique, gap-free seqs in each caller\'s order', async () => {
    const d = freshDevice();
    const callers = 4;
    const batches = 12;
    const perBatch = 3;
    const pools = Array.from({ length: callers }, () => createPgPool({ dsn: db.dsn, max: 1 }));
    try {
      const results = await Promise.all(pools.map(async (pool, caller) => {
        const queue = new RelayQueue({ pool, defaultTtlSeconds: 3600, metrics: relayMetrics(new Registry()), logger });
        const seqs: number[] = [];
        for (let b = 0; b < batches; b++) {
          const batch = Array.from({ length: perBatch }, (_, i) => envelope(d, `c${caller}-b${b}-${i}`));
          seqs.push(...(await queue.enqueue(batch)).map((e) => e.seq));
        }
        return seqs;
      }));
      const total = callers * batches * perBatch;
      const all = results.flat().sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // each caller's later batches got later seqs, and a batch's seqs are consecutive
      for (const seqs of results) {
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
        for (let i = 0; i < seqs.length; i += perBatch) expect(seqs.slice(i, i + perBatch)).toEqual([seqs[i]!, seqs[i]! + 1, seqs[i]! + 2]);
      }
      const drained = await newQueue().queue.drain(d, 0, 1000);
      expect(drained.envelopes.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // drain order is seq order, and it matches what each caller was told
      const told = new Map(results.flatMap((seqs, caller) => seqs.map((seq, k) => [seq, `c${caller}-b${Math.floor(k / perBatch)}-${k % perBatch}`] as const)));
      for (const e of drained.envelopes) expect(e.messageId).toBe(told.get(e.seq));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('concurrent enqueues of the same messages store each once, agree on its seq and leave no gap', async () => {
    const d = freshDevice();
    const pools = Array.from({ length: 4 }, () => createPgPool({ dsn: db.dsn, max: 1 }));
    try {
      const batch = Array.from({ length: 5 }, (_, i) => envelope(d, `same-${i}`));
      const answers = await Promise.all(pools.map((pool) =>
        new RelayQueue({ pool, defaultTtlSeconds: 3600, metrics: relayMetrics(new Registry()), logger }).enqueue(batch)));
      for (const answer of answers) expect(answer.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect((await rowsOf(d)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      expect((await newQueue().queue.enqueue([envelope(d, 'after')]))[0]!.seq).toBe(6);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('concurrent multi-device batches listing the devices in opposite order all commit, gap-free per device', async () => {
    const [x, y, z] = [freshDevice(), freshDevice(), freshDevice()];
    const pools = Array.from({ length: 2 }, () => createPgPool({ dsn: db.dsn, max: 1 }));
    try {
      const queues = pools.map((pool) => new RelayQueue({ pool, defaultTtlSeconds: 3600, metrics: relayMetrics(new Registry()), logger }));
      await Promise.all([
        (async () => { for (let i = 0; i < 15; i++) await queues[0]!.enqueue([envelope(x, `p${i}`), envelope(y, `p${i}`), envelope(z, `p${i}`)]); })(),
        (async () => { for (let i = 0; i < 15; i++) await queues[1]!.enqueue([envelope(z, `q${i}`), envelope(y, `q${i}`), envelope(x, `q${i}`)]); })(),
      ]);
      for (const d of [x, y, z]) expect((await rowsOf(d)).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('paging: limit, more, the default and maximum page sizes, and the byte budget', async () => {
    const { queue } = newQueue();
    const d = freshDevice();
    await queue.enqueue(Array.from({ length: 5 }, (_, i) => envelope(d, `m${i}`)));
    const p1 = await queue.drain(d, 0, 2);
    expect([p1.envelopes.map((e) => e.seq), p1.more]).toEqual([[1, 2], true]);
    const p2 = await queue.drain(d, 2, 2);
    expect([p2.envelopes.map((e) => e.seq), p2.more]).toEqual([[3, 4], true]);
    const p3 = await queue.drain(d, 4, 2);
    expect([p3.envelopes.map((e) => e.seq), p3.more]).toEqual([[5], false]);
    const exact = await queue.drain(d, 3, 2);
    expect([exact.envelopes.map((e) => e.seq), exact.more]).toEqual([[4, 5], false]);
    expect(await queue.drain(d, 5)).toEqual({ envelopes: [], more: false });

    const big = freshDevice();
    await queue.enqueue(Array.from({ length: 1000 }, (_, i) => envelope(big, `b${i}`, Buffer.from([i & 0xff]))));
    await queue.enqueue([envelope(big, 'last')]);
    const byDefault = await queue.drain(big);
    expect([byDefault.envelopes.length, byDefault.more]).toEqual([256, true]);
    const capped = await queue.drain(big, 0, 5000);
    expect([capped.envelopes.length, capped.envelopes.at(-1)!.seq, capped.more]).toEqual([1000, 1000, true]);

    // a page stops before its frames pass the budget; an oversized first frame still comes alone
    const { queue: tight } = newQueue({ drainPageBytes: 100 });
    const bytes = freshDevice();
    await tight.enqueue([envelope(bytes, 'a', Buffer.alloc(40)), envelope(bytes, 'b', Buffer.alloc(60)), envelope(bytes, 'c', Buffer.alloc(150)), envelope(bytes, 'd', Buffer.alloc(10))]);
    const q1 = await tight.drain(bytes);
    expect([q1.envelopes.map((e) => e.messageId), q1.more]).toEqual([['a', 'b'], true]);
    const q2 = await tight.drain(bytes, 2);
    expect([q2.envelopes.map((e) => e.messageId), q2.more]).toEqual([['c'], true]);
    const q3 = await tight.drain(bytes, 3);
    expect([q3.envelopes.map((e) => e.messageId), q3.more]).toEqual([['d'], false]);
  });
});

describe('acknowledge', () => {
  test('cumulative and explicit seqs remove exactly those envelopes; repeating removes nothing', async () => {
    const { queue, registry } = newQueue();
    const d = freshDevice();
    const other = freshDevice();
    await queue.enqueue(Array.from({ length: 8 }, (_, i) => envelope(d, `m${i + 1}`)));
    await queue.enqueue([envelope(other, 'm1')]);

    expect(await queue.acknowledge(d, 3)).toBe(3);
    expect(await queue.acknowledge(d, 0, [5, 7, 42])).toBe(2);
    expect((await queue.drain(d)).envelopes.map((e) => e.seq)).toEqual([4, 6, 8]);
    expect(await queue.acknowledge(d, 3, [5, 7])).toBe(0);
    expect(await queue.acknowledge(d, 0, [])).toBe(0);
    expect(await queue.acknowledge(d, 4, [8])).toBe(2);
    expect((await queue.drain(d)).envelopes.map((e) => e.seq)).toEqual([6]);
    // another device's envelope with the same seq is untouched
    expect(await queue.depth(other)).toBe(1);
    expect(await counterValue(registry, 'commucat_relay_acknowledged_total')).toBe(7);
    // seqs keep counting after acknowledgements: a client's last seen seq stays meaningful
    expect((await queue.enqueue([envelope(d, 'm9')]))[0]!.seq).toBe(9);
    // an acknowledged message is remembered: a resend comes back with seq 0 and is not stored
    const [resent] = await queue.enqueue([envelope(d, 'm1'), envelope(d, 'm10')]);
    expect(resent!.seq).toBe(0);
    expect((await queue.drain(d)).envelopes.map((e) => e.messageId)).toEqual(['m6', 'm9', 'm10']);
    // a still-queued one comes back with its seq; neither takes a new seq
    expect((await queue.enqueue([envelope(d, 'm6')]))[0]!.seq).toBe(6);
    expect((await queue.enqueue([envelope(d, 'm11')]))[0]!.seq).toBe(11);
    // the memory is per device: the same message id for another device is a new envelope
    expect((await queue.enqueue([envelope(other, 'm2')]))[0]!.seq).toBe(2);
  });

  test('two concurrent resends of one acknowledged message store nothing; a concurrent first send stores once', async () => {
    const { queue } = newQueue();
    const d = freshDevice();
    await queue.enqueue([envelope(d, 'a')]);
    await queue.acknowledge(d, 1);
    const pools = [createPgPool({ dsn: db.dsn, max: 1 }), createPgPool({ dsn: db.dsn, max: 1 })];
    try {
      const queues = pools.map((pool) => new RelayQueue({ pool, defaultTtlSeconds: 3600, metrics: relayMetrics(new Registry()), logger }));
      const resends = await Promise.all(queues.map((q) => q.enqueue([envelope(d, 'a')])));
      expect(resends.map((r) => r[0]!.seq)).toEqual([0, 0]);
      const firsts = await Promise.all(queues.map((q) => q.enqueue([envelope(d, 'b')])));
      // one stored it; the other found it queued, whether before or after waiting for that commit
      expect(firsts.map((r) => r[0]!.seq)).toEqual([2, 2]);
      expect(await rowsOf(d)).toEqual([{ seq: 2, message_id: 'b' }]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

describe('expiry', () => {
  test('expired envelopes are skipped by drain and depth, and deleted by the purge in batches', async () => {
    const { queue, registry } = newQueue({ purgeBatchSize: 2 });
    const d = freshDevice();
    await queue.enqueue(Array.from({ length: 6 }, (_, i) => envelope(d, `m${i + 1}`)));
    await expire(d, [1, 3, 4, 5, 6]);
    const page = await queue.drain(d, 0, 1);
    expect([page.envelopes.map((e) => e.seq), page.more]).toEqual([[2], false]);
    expect(await queue.depth(d)).toBe(1);

    const before = await counterValue(registry, 'commucat_relay_expired_total');
    expect(await queue.purgeExpired()).toBeGreaterThanOrEqual(5);
    expect(await counterValue(registry, 'commucat_relay_expired_total') - before).toBeGreaterThanOrEqual(5);
    expect((await rowsOf(d)).map((r) => r.seq)).toEqual([2]);
    expect(await queue.purgeExpired()).toBe(0);
    // the acceptance records of expired envelopes go too, so their memory is not kept forever
    await db.pool.query(`UPDATE relay_accepted SET expires_at = now() - interval '1 second' WHERE device_id = $1 AND message_id <> 'm2'`, [d]);
    await queue.purgeExpired();
    const { rows } = await db.pool.query('SELECT message_id FROM relay_accepted WHERE device_id = $1', [d]);
    expect(rows.map((r) => r.message_id)).toEqual(['m2']);
  });

  test('the background loop purges and refreshes the depth gauge until stopped', async () => {
    const { queue, registry } = newQueue({ purgeIntervalMs: 20 });
    const d = freshDevice();
    await queue.enqueue([envelope(d, 'keep'), envelope(d, 'gone')]);
    await expire(d, [2]);
    const { rows } = await db.pool.query(`SELECT count(*) AS n FROM relay_queue WHERE expires_at > now()`);
    const live = Number(rows[0].n);

    queue.startPurging();
    try {
      await waitFor(async () => (await rowsOf(d)).length === 1);
      await waitFor(async () => (await counterValue(registry, 'commucat_relay_queue_depth')) === live);
    } finally {
      await queue.stopPurging();
    }
    expect((await rowsOf(d)).map((r) => r.message_id)).toEqual(['keep']);

    // stopped: an envelope expiring now stays until the next purge
    await expire(d, [1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await rowsOf(d)).toHaveLength(1);
  });
});

describe('validation', () => {
  test('bad requests are refused with a stable code and a message naming the field', async () => {
    const { queue } = newQueue();
    const d = freshDevice();
    const refused = async (work: Promise<unknown>, code: string, message: RegExp) => {
      const err = await work.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(RelayError);
      expect((err as RelayError).code).toBe(code);
      expect((err as RelayError).message).toMatch(message);
    };
    await refused(queue.enqueue([envelope(d, 'ok'), envelope('', 'm')]), 'DEVICE_ID_INVALID', /envelopes\[1\]\.device_id must not be empty/);
    await refused(queue.enqueue([envelope(d, '')]), 'MESSAGE_ID_INVALID', /envelopes\[0\]\.message_id/);
    await refused(queue.enqueue([envelope(d, 'm', Buffer.alloc(0))]), 'FRAME_EMPTY', /frame must not be empty/);
    await refused(queue.enqueue([envelope(d, 'm', Buffer.alloc(MAX_FRAME_BYTES + 1))]), 'FRAME_TOO_LARGE', /at most 16777226/);
    await refused(queue.enqueue([envelope('a\u0000b', 'm')]), 'DEVICE_ID_INVALID', /NUL/);
    await refused(queue.enqueue([{ ...envelope(d, 'm'), channelId: -1 }]), 'CHANNEL_ID_INVALID', /channel_id/);
    await refused(queue.enqueue(Array.from({ length: 1001 }, (_, i) => envelope(d, `m${i}`))), 'TOO_MANY_ENVELOPES', /at most 1000/);
    await refused(queue.drain(''), 'DEVICE_ID_INVALID', /device_id must not be empty/);
    await refused(queue.drain(d, -1), 'SEQ_INVALID', /after_seq/);
    await refused(queue.acknowledge(d, 0, [1, 1.5]), 'SEQ_INVALID', /seqs\[1\]/);
    await refused(queue.depth(''), 'DEVICE_ID_INVALID', /device_id/);
    // nothing of a refused batch was stored, and its valid envelope took no seq
    expect(await rowsOf(d)).toEqual([]);
    // a frame of exactly the maximum size is accepted
    expect((await queue.enqueue([envelope(d, 'max', Buffer.alloc(MAX_FRAME_BYTES, 1))]))[0]!.seq).toBe(1);
    expect(await queue.enqueue([])).toEqual([]);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
