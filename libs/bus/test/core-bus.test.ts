import { context, SpanKind, trace, type SpanContext } from '@opentelemetry/api';
import { connect } from '@nats-io/transport-node';
import { BusError, connectBus, defineSubject, type Bus } from '../src';
import { countdown, eventually, jsonCodec, natsUrl, RecordingLogger, uniqueToken } from './support/stack';
import { installTracing } from './support/tracing';

interface Ping {
  seq: number;
  text: string;
}

const spans = installTracing();
const run = uniqueToken('bus');
const ping = defineSubject('test.ping', `commucat.test.${run}.{room}.ping`, jsonCodec<Ping>());
const echo = defineSubject('test.echo', `commucat.test.${run}.echo`, jsonCodec<{ text: string }>());
const buses: Bus[] = [];

async function newBus(name: string, logger = new RecordingLogger()): Promise<Bus> {
  const bus = await connectBus({ servers: natsUrl(), name, logger });
  buses.push(bus);
  return bus;
}

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

beforeEach(() => spans.reset());

describe('publish / subscribe', () => {
  it('delivers typed messages with their subject, in order', async () => {
    const pub = await newBus('pub');
    const sub = await newBus('sub');
    const got: Array<{ msg: Ping; subject: string }> = [];
    const all = countdown(3);
    const subscription = sub.subscribe(ping, { room: 'r1' }, (msg, meta) => {
      got.push({ msg, subject: meta.subject });
      all.hit();
    });
    await sub.ready();
    for (let i = 1; i <= 3; i++) pub.publish(ping, { room: 'r1' }, { seq: i, text: `hello ${i}` });
    await all.done;
    expect(got).toEqual([1, 2, 3].map((i) => ({ msg: { seq: i, text: `hello ${i}` }, subject: `commucat.test.${run}.r1.ping` })));
    await subscription.drain();
  });

  it("subscribes to every parameter value with 'all' and passes extra headers through", async () => {
    const bus = await newBus('all');
    const subjects: string[] = [];
    const headers: string[] = [];
    const two = countdown(2);
    const everyRoom = bus.subscribe(ping, 'all', (_msg, meta) => {
      subjects.push(meta.subject);
      headers.push(meta.headers['Commucat-Sender'] ?? '');
      two.hit();
    });
    await bus.ready();
    bus.publish(ping, { room: 'a' }, { seq: 1, text: '' }, { headers: { 'Commucat-Sender': 'dev-a' } });
    bus.publish(ping, { room: 'b' }, { seq: 2, text: '' }, { headers: { 'Commucat-Sender': 'dev-b' } });
    await two.done;
    expect(subjects).toEqual([`commucat.test.${run}.a.ping`, `commucat.test.${run}.b.ping`]);
    expect(headers).toEqual(['dev-a', 'dev-b']);
    // A wildcard left listening would also consume the later tests' pings (and add spans).
    await everyRoom.drain();
  });

  it('runs the handler inside the trace of the publisher (CONSUMER span, child of the PRODUCER span)', async () => {
    const pub = await newBus('trace-pub');
    const sub = await newBus('trace-sub');
    let seen: SpanContext | undefined;
    let traceparent = '';
    const one = countdown(1);
    sub.subscribe(ping, { room: 'traced' }, (_msg, meta) => {
      seen = trace.getActiveSpan()?.spanContext();
      traceparent = meta.headers.traceparent ?? '';
      one.hit();
    });
    await sub.ready();

    const root = trace.getTracer('test').startSpan('request from a device');
    context.with(trace.setSpan(context.active(), root), () => pub.publish(ping, { room: 'traced' }, { seq: 1, text: 't' }));
    root.end();
    await one.done;
    const traceId = root.spanContext().traceId;
    // Only this trace's spans: a handler of an earlier test may still end its span after reset().
    const ofThisTrace = () => spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    await eventually(() => ofThisTrace().some((s) => s.kind === SpanKind.CONSUMER), 'the consumer span to end');

    const producer = ofThisTrace().find((s) => s.kind === SpanKind.PRODUCER)!;
    const consumer = ofThisTrace().find((s) => s.kind === SpanKind.CONSUMER)!;
    expect(seen?.traceId).toBe(traceId);
    expect(seen?.spanId).toBe(consumer.spanContext().spanId);
    expect(producer.spanContext().traceId).toBe(traceId);
    expect(producer.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(traceparent).toBe(`00-${traceId}-${producer.spanContext().spanId}-01`);
    expect(producer.name).toBe('publish test.ping');
    expect(consumer.name).toBe('process test.ping');
    expect(consumer.attributes['messaging.destination.name']).toBe(`commucat.test.${run}.traced.ping`);
  });

  it('delivers each message to exactly one member of a queue group', async () => {
    const pub = await newBus('q-pub');
    const a = await newBus('q-a');
    const b = await newBus('q-b');
    const byA: number[] = [];
    const byB: number[] = [];
    const all = countdown(40);
    a.subscribe(ping, { room: 'queue' }, (m) => void (byA.push(m.seq), all.hit()), { queue: 'workers' });
    b.subscribe(ping, { room: 'queue' }, (m) => void (byB.push(m.seq), all.hit()), { queue: 'workers' });
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 0; i < 40; i++) pub.publish(ping, { room: 'queue' }, { seq: i, text: '' });
    await all.done;
    await pub.ready(); // a round trip: any duplicate would have arrived by now
    await Promise.all([a.ready(), b.ready()]);
    const seqs = [...byA, ...byB].sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
  });

  it('keeps delivering after a handler throws, and logs the failure', async () => {
    const logger = new RecordingLogger();
    const bus = await newBus('throws', logger);
    const handled: number[] = [];
    const three = countdown(3);
    bus.subscribe(ping, { room: 'throws' }, async (m) => {
      three.hit();
      if (m.seq === 1) throw new Error('handler exploded');
      handled.push(m.seq);
    });
    await bus.ready();
    for (const seq of [1, 2, 3]) bus.publish(ping, { room: 'throws' }, { seq, text: '' });
    await three.done;
    expect(handled).toEqual([2, 3]);
    const failure = logger.entries.find((e) => e.msg === 'bus handler failed');
    expect((failure?.obj.err as Error).message).toBe('handler exploded');
  });

  it('drops a payload that fails to decode, logs it, and handles the next one', async () => {
    const logger = new RecordingLogger();
    const bus = await newBus('bad-payload', logger);
    const raw = await connect({ servers: natsUrl(), name: 'raw' });
    const handled: number[] = [];
    const one = countdown(1);
    bus.subscribe(ping, { room: 'bad' }, (m) => {
      handled.push(m.seq);
      one.hit();
    });
    await bus.ready();
    raw.publish(ping.subject({ room: 'bad' }), new Uint8Array([0xff, 0xfe, 0x00]));
    await raw.flush();
    bus.publish(ping, { room: 'bad' }, { seq: 7, text: 'fine' });
    await one.done;
    await raw.close();
    expect(handled).toEqual([7]);
    expect(logger.messages('warn')).toContain('dropping message that failed to decode');
  });

  it('refuses to publish with an invalid parameter or an unencodable message', async () => {
    const bus = await newBus('invalid');
    expect(() => bus.publish(ping, { room: 'a.b' }, { seq: 1, text: '' })).toThrow(expect.objectContaining({ code: 'invalid_subject_param' }));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => bus.publish(ping, { room: 'ok' }, circular as unknown as Ping)).toThrow(expect.objectContaining({ code: 'encode_failed' }));
  });
});

describe('request / serve', () => {
  it('answers a request with the typed reply, across the trace', async () => {
    const server = await newBus('server');
    const client = await newBus('client');
    let serverTraceId = '';
    server.serve(echo, {}, jsonCodec<{ upper: string }>(), (m) => {
      serverTraceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      return { upper: m.text.toUpperCase() };
    });
    await server.ready();
    const root = trace.getTracer('test').startSpan('caller');
    const reply = await context.with(trace.setSpan(context.active(), root), () =>
      client.request(echo, {}, { text: 'quiet' }, jsonCodec<{ upper: string }>(), 2000),
    );
    root.end();
    expect(reply).toEqual({ upper: 'QUIET' });
    expect(serverTraceId).toBe(root.spanContext().traceId);
  });

  it('reports a failing responder as remote_error with its error code', async () => {
    const logger = new RecordingLogger();
    const server = await newBus('server-fails', logger);
    const client = await newBus('client-2');
    const failing = defineSubject('test.fail', `commucat.test.${run}.fail`, jsonCodec<{ text: string }>());
    server.serve(failing, {}, jsonCodec<string>(), () => {
      throw Object.assign(new Error('secret detail must not travel'), { code: 'not_allowed' });
    });
    await server.ready();
    const err = await client.request(failing, {}, { text: 'x' }, jsonCodec<string>(), 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('remote_error');
    expect((err as BusError).remoteCode).toBe('not_allowed');
    expect((err as Error).message).not.toContain('secret detail');
    expect(logger.messages('error')).toContain('bus request handler failed');
  });

  it('fails with no_responders when nobody serves the subject, and timeout when the responder is too slow', async () => {
    const client = await newBus('lonely');
    const nobody = defineSubject('test.nobody', `commucat.test.${run}.nobody`, jsonCodec<string>());
    await expect(client.request(nobody, {}, 'x', jsonCodec<string>(), 1000)).rejects.toMatchObject({ code: 'no_responders' });

    const slow = defineSubject('test.slow', `commucat.test.${run}.slow`, jsonCodec<string>());
    const server = await newBus('slow-server');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    server.serve(slow, {}, jsonCodec<string>(), async () => {
      await held;
      return 'late';
    });
    await server.ready();
    await expect(client.request(slow, {}, 'x', jsonCodec<string>(), 100)).rejects.toMatchObject({ code: 'timeout' });
    release();
  });
});

describe('lifecycle', () => {
  it('ready() resolves on a live connection and rejects once closed', async () => {
    const bus = await connectBus({ servers: natsUrl(), name: 'lifecycle' });
    await expect(bus.ready()).resolves.toBeUndefined();
    await bus.close();
    await expect(bus.ready()).rejects.toMatchObject({ code: 'closed' });
    expect(() => bus.publish(ping, { room: 'x' }, { seq: 1, text: '' })).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it('connectBus fails with unavailable when no server listens', async () => {
    await expect(connectBus({ servers: 'nats://127.0.0.1:1', name: 'nowhere' })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('drain() lets the subscriber finish every message already sent to it, including what its handler publishes', async () => {
    const pub = await newBus('drain-pub');
    const sub = await connectBus({ servers: natsUrl(), name: 'drain-sub' });
    const handled: number[] = [];
    const first = countdown(1);
    const receipts: string[] = [];
    const allReceipts = countdown(20);
    pub.subscribe(echo, {}, (m) => void (receipts.push(m.text), allReceipts.hit()));
    await pub.ready();
    sub.subscribe(ping, { room: 'drain' }, async (m) => {
      first.hit();
      await new Promise((r) => setTimeout(r, 15));
      handled.push(m.seq);
      sub.publish(echo, {}, { text: `done ${m.seq}` });
    });
    await sub.ready();
    for (let i = 0; i < 20; i++) pub.publish(ping, { room: 'drain' }, { seq: i, text: '' });
    await pub.ready(); // the server has routed all 20 to the subscriber
    await first.done; // and the subscriber is busy with the first
    await sub.drain();
    expect(handled).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await expect(sub.ready()).rejects.toMatchObject({ code: 'closed' });
    expect(() => sub.subscribe(ping, 'all', () => undefined)).toThrow(expect.objectContaining({ code: 'closed' }));
    await allReceipts.done;
    expect(receipts).toEqual(Array.from({ length: 20 }, (_, i) => `done ${i}`));
  });
});
