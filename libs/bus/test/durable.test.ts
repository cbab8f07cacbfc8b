import { context, SpanKind, trace } from '@opentelemetry/api';
import { BusError, connectBus, defineSubject, ensureStream, type Bus, type BusCodec, type DurableMessageMeta } from '../src';
import { countdown, eventually, jsonCodec, NatsAdmin, natsUrl, RecordingLogger, uniqueToken } from './support/stack';
import { installTracing } from './support/tracing';

interface Job {
  id: number;
}

const spans = installTracing();
const run = uniqueToken('dur');
const job = defineSubject('test.job', `commucat.test.${run}.job.{lane}`, jsonCodec<Job>());
const rawBytes: BusCodec<Uint8Array> = { encode: (b) => b, decode: (b) => b };
const rawJob = defineSubject('test.job.raw', `commucat.test.${run}.job.{lane}`, rawBytes);

let admin: NatsAdmin;
const buses: Bus[] = [];

async function newBus(name: string, logger = new RecordingLogger()): Promise<Bus> {
  const bus = await connectBus({ servers: natsUrl(), name, logger });
  buses.push(bus);
  return bus;
}

/** A fresh stream for one test, capturing only that test's lane. */
async function freshStream(bus: Bus, lane: string): Promise<string> {
  const name = admin.track(uniqueToken('BUS_TEST'));
  await ensureStream(bus, { name, subjects: [job.subject({ lane })], storage: 'memory', maxAgeSeconds: 300 });
  return name;
}

beforeAll(async () => {
  admin = await NatsAdmin.connect();
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await admin?.cleanup();
});

describe('ensureStream', () => {
  it('creates, is idempotent, updates limits, and refuses a storage change', async () => {
    const bus = await newBus('streams');
    const name = admin.track(uniqueToken('BUS_TEST'));
    const subjects = [job.subject({ lane: 'cfg' })];
    await ensureStream(bus, { name, subjects, storage: 'file', maxAgeSeconds: 60 });
    await ensureStream(bus, { name, subjects, storage: 'file', maxAgeSeconds: 60 });
    let config = await admin.streamConfig(name);
    expect(config.max_age).toBe(60 * 1e9);
    expect(config.duplicate_window).toBe(60 * 1e9); // capped at max age

    await ensureStream(bus, { name, subjects, storage: 'file', maxAgeSeconds: 3600, maxMsgsPerSubject: 5 });
    config = await admin.streamConfig(name);
    expect(config.max_age).toBe(3600 * 1e9);
    expect(config.max_msgs_per_subject).toBe(5);
    expect(config.duplicate_window).toBe(120 * 1e9);

    const err = await ensureStream(bus, { name, subjects, storage: 'memory' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('stream_config_conflict');
  });
});

describe('publishDurable / consumeDurable', () => {
  it('stores messages published while no consumer runs and delivers them, in order, once one starts', async () => {
    const producer = await newBus('producer');
    const stream = await freshStream(producer, 'offline');
    const acks = [];
    for (let id = 1; id <= 5; id++) acks.push(await producer.publishDurable(job, { lane: 'offline' }, { id }));
    expect(acks.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(acks.every((a) => a.stream === stream && !a.duplicate)).toBe(true);

    const consumerBus = await newBus('consumer');
    const got: Job[] = [];
    const five = countdown(5);
    const consumer = await consumerBus.consumeDurable(job, {
      stream,
      durable: 'worker',
      handler: (m) => {
        got.push(m);
        five.hit();
      },
    });
    await five.done;
    expect(got.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    await consumer.stop();

    // Acknowledged messages are not delivered again to the same durable; new ones are.
    await producer.publishDurable(job, { lane: 'offline' }, { id: 6 });
    const again: number[] = [];
    const one = countdown(1);
    const restarted = await consumerBus.consumeDurable(job, {
      stream,
      durable: 'worker',
      handler: (m) => {
        again.push(m.id);
        one.hit();
      },
    });
    await one.done;
    await consumerBus.ready();
    expect(again).toEqual([6]);
    await restarted.stop();
  });

  it('redelivers a message whose handler threw, with the delivery count, until it succeeds', async () => {
    const logger = new RecordingLogger();
    const bus = await newBus('retry', logger);
    const stream = await freshStream(bus, 'retry');
    const deliveries: Array<{ id: number; count: number }> = [];
    const succeeded = countdown(1);
    const consumer = await bus.consumeDurable(job, {
      stream,
      durable: 'retrier',
      nakDelayMs: 50,
      handler: (m, meta: DurableMessageMeta) => {
        deliveries.push({ id: m.id, count: meta.deliveryCount });
        if (meta.deliveryCount === 1) throw new Error('transient failure');
        succeeded.hit();
      },
    });
    await bus.publishDurable(job, { lane: 'retry' }, { id: 42 });
    await succeeded.done;
    expect(deliveries).toEqual([
      { id: 42, count: 1 },
      { id: 42, count: 2 },
    ]);
    expect(logger.messages('error')).toContain('durable handler failed; message will be redelivered');
    await consumer.stop();
    await expect(admin.consumerPending(stream, 'retrier')).resolves.toEqual({ pending: 0, ackPending: 0 });
  });

  it('stores a message once when it is published twice with the same msgId', async () => {
    const bus = await newBus('dedup');
    const stream = await freshStream(bus, 'dedup');
    const first = await bus.publishDurable(job, { lane: 'dedup' }, { id: 1 }, { msgId: 'envelope-1' });
    const second = await bus.publishDurable(job, { lane: 'dedup' }, { id: 1 }, { msgId: 'envelope-1' });
    const third = await bus.publishDurable(job, { lane: 'dedup' }, { id: 2 }, { msgId: 'envelope-2' });
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ stream, seq: first.seq, duplicate: true });
    expect(third.seq).toBe(first.seq + 1);

    const got: number[] = [];
    const two = countdown(2);
    const consumer = await bus.consumeDurable(job, { stream, durable: 'dedup', handler: (m) => void (got.push(m.id), two.hit()) });
    await two.done;
    await bus.ready();
    expect(got).toEqual([1, 2]);
    await consumer.stop();
    await expect(admin.consumerPending(stream, 'dedup')).resolves.toEqual({ pending: 0, ackPending: 0 });
  });

  it('carries the trace context from publishDurable to the consumer', async () => {
    const bus = await newBus('durable-trace');
    const stream = await freshStream(bus, 'trace');
    let seenTraceId = '';
    const one = countdown(1);
    const consumer = await bus.consumeDurable(job, {
      stream,
      durable: 'tracer',
      handler: () => {
        seenTraceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
        one.hit();
      },
    });
    spans.reset();
    const root = trace.getTracer('test').startSpan('enqueue');
    await context.with(trace.setSpan(context.active(), root), () => bus.publishDurable(job, { lane: 'trace' }, { id: 1 }));
    root.end();
    await one.done;
    // Only this trace's spans: another test's handler may still end a span after reset().
    const ofThisTrace = () => spans.getFinishedSpans().filter((s) => s.spanContext().traceId === root.spanContext().traceId);
    await eventually(() => ofThisTrace().some((s) => s.kind === SpanKind.CONSUMER), 'the consumer span');
    expect(seenTraceId).toBe(root.spanContext().traceId);
    const producer = ofThisTrace().find((s) => s.kind === SpanKind.PRODUCER)!;
    const consumerSpan = ofThisTrace().find((s) => s.kind === SpanKind.CONSUMER)!;
    expect(consumerSpan.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    await consumer.stop();
  });

  it('terminates an undecodable message instead of redelivering it forever', async () => {
    const logger = new RecordingLogger();
    const bus = await newBus('poison', logger);
    const stream = await freshStream(bus, 'poison');
    await bus.publishDurable(rawJob, { lane: 'poison' }, new Uint8Array([0xff, 0x00, 0x01]));
    await bus.publishDurable(job, { lane: 'poison' }, { id: 9 });
    const got: number[] = [];
    const one = countdown(1);
    const consumer = await bus.consumeDurable(job, { stream, durable: 'poison', nakDelayMs: 10, handler: (m) => void (got.push(m.id), one.hit()) });
    await one.done;
    await bus.ready();
    expect(got).toEqual([9]);
    expect(logger.messages('warn')).toEqual(['dropping message that failed to decode']);
    await consumer.stop();
    await expect(admin.consumerPending(stream, 'poison')).resolves.toEqual({ pending: 0, ackPending: 0 });
  });

  it('shares one durable between two consumers: every message handled exactly once', async () => {
    const a = await newBus('share-a');
    const b = await newBus('share-b');
    const stream = await freshStream(a, 'share');
    const handled: number[] = [];
    const all = countdown(30);
    const handler = (m: Job) => void (handled.push(m.id), all.hit());
    const ca = await a.consumeDurable(job, { stream, durable: 'shared', handler });
    const cb = await b.consumeDurable(job, { stream, durable: 'shared', handler });
    for (let id = 0; id < 30; id++) await a.publishDurable(job, { lane: 'share' }, { id });
    await all.done;
    await Promise.all([ca.stop(), cb.stop()]);
    expect([...handled].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await expect(admin.consumerPending(stream, 'shared')).resolves.toEqual({ pending: 0, ackPending: 0 });
  });

  it('rejects publishDurable when no stream captures the subject', async () => {
    const bus = await newBus('nostream');
    await expect(bus.publishDurable(job, { lane: 'nowhere' }, { id: 1 })).rejects.toMatchObject({ code: 'publish_failed' });
  });
});

describe('exclusive consumers on a work-queue stream', () => {
  it('after a consumer process dies mid-message, its successor gets the unacknowledged messages first, in order, without waiting for the ack wait', async () => {
    const producer = await newBus('wq-producer');
    const name = admin.track(uniqueToken('BUS_TEST'));
    await ensureStream(producer, { name, subjects: [job.subject({ lane: 'wq' })], storage: 'file', retention: 'workqueue', maxAgeSeconds: 300 });
    expect((await admin.streamConfig(name)).retention).toBe('workqueue');
    for (let id = 1; id <= 4; id++) await producer.publishDurable(job, { lane: 'wq' }, { id });

    // The first process handles 1, then hangs on 2 (and has 3 and 4 prefetched) and dies.
    const doomed = await connectBus({ servers: natsUrl(), name: 'wq-doomed' });
    const stuck = countdown(1);
    const first: number[] = [];
    await doomed.consumeDurable(job, {
      stream: name, durable: 'router', exclusive: true, ackWaitMs: 600_000, concurrency: 1,
      handler: (m) => {
        first.push(m.id);
        if (m.id === 1) return undefined;
        stuck.hit();
        return new Promise<void>(() => undefined);
      },
    });
    await stuck.done;
    await doomed.close();
    expect(first).toEqual([1, 2]);
    // Acknowledged messages left the stream; the rest stays.
    for (let id = 5; id <= 6; id++) await producer.publishDurable(job, { lane: 'wq' }, { id });

    const successor = await newBus('wq-successor');
    const rest = countdown(5);
    const second: number[] = [];
    const consumer = await successor.consumeDurable(job, {
      stream: name, durable: 'router', exclusive: true, ackWaitMs: 600_000,
      handler: (m) => void (second.push(m.id), rest.hit()),
    });
    // Well inside the ten-minute ack wait: the recreated consumer starts from the first unacked message.
    await rest.done;
    expect(second).toEqual([2, 3, 4, 5, 6]);
    await consumer.stop();
    // Acks are fire-and-forget; the stream empties once the server has processed them.
    let messages = -1;
    for (let i = 0; i < 50 && messages !== 0; i++) {
      messages = (await admin.streamState(name)).messages;
      if (messages !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(messages).toBe(0);
  });

  it('a namespaced bus keeps its streams apart from another namespace\'s', async () => {
    const ns = uniqueToken('ns').replace(/[^A-Za-z0-9_-]/g, '_');
    const bus = await connectBus({ servers: natsUrl(), name: 'ns-streams', namespace: ns });
    buses.push(bus);
    const name = uniqueToken('BUS_TEST');
    admin.track(`${name}_${ns}`);
    await ensureStream(bus, { name, subjects: [job.subject({ lane: 'ns' })], storage: 'memory', maxAgeSeconds: 60 });
    expect((await admin.streamConfig(`${name}_${ns}`)).subjects).toEqual([`${ns}.${job.subject({ lane: 'ns' })}`]);
    const ack = await bus.publishDurable(job, { lane: 'ns' }, { id: 1 });
    expect(ack.stream).toBe(`${name}_${ns}`);
  });
});
