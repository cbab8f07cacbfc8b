import type { ClientConnection } from '@commucat/client';
import { randomBytes } from 'node:crypto';
import { connectPeer, freshChannel, type Peer } from '../support/conversation';
import { connectTo, newIdentity } from '../support/fleet-client';
import { startFederatedPair, type FederatedPair } from '../support/federated-pair';
import { TestFleet } from '../support/fleet';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { rest } from '../support/rest-client';

jest.setTimeout(120_000);

// OTLP SpanKind numbers.
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

let receiver: OtlpReceiver;
let fleet: TestFleet;
let alice: Peer;
let bob: Peer;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  fleet = await TestFleet.start({
    gateways: 2,
    media: false,
    federation: false,
    env: {
      // The standard variable (the config key falls back to it); a short batch delay so spans
      // arrive within the test.
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      COMMUCAT_LOG_LEVEL: 'debug',
    },
  });
  alice = await connectPeer(fleet, 'trace-alice', 0);
  bob = await connectPeer(fleet, 'trace-bob', 1);
});

afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await fleet?.stop();
  await receiver?.stop();
});

/** The chain of spans from `span` up to its trace's root (span first). */
function lineage(span: ReceivedSpan, spans: readonly ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent);
  return chain;
}

function only(spans: readonly ReceivedSpan[], what: string, pred: (s: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(pred);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
  return found[0]!;
}

const parentOf = (span: ReceivedSpan, spans: readonly ReceivedSpan[]) => spans.find((s) => s.spanId === span.parentSpanId);

describe('one trace per message (gateway → NATS → router → relay → NATS → gateway)', () => {
  let traceId = '';
  let spans: ReceivedSpan[] = [];

  beforeAll(async () => {
    const channel = freshChannel();
    await alice.join(channel);
    await bob.join(channel);
    await alice.say(channel, 'follow me through the fleet');
    await bob.expectText(channel, 'follow me through the fleet');
    const receive = await receiver.waitFor('gateway.receive msg span', () =>
      receiver.spans.find((s) => s.name === 'gateway.receive msg' && s.attributes['commucat.device_id'] === alice.deviceId));
    traceId = receive.traceId;
    // Every hop exports on its own schedule: wait until the last ones (both gateways' writes) are in.
    spans = await receiver.waitFor('complete message trace', () => {
      const t = receiver.trace(traceId);
      const done = t.some((s) => s.name === 'gateway.write_delivery') && t.some((s) => s.name === 'gateway.write_reply')
        && t.some((s) => s.service === 'relay');
      return done ? t : undefined;
    });
    // A little longer for stragglers of the same trace (spans that end after the writes).
    await new Promise((resolve) => setTimeout(resolve, 600));
    spans = receiver.trace(traceId);
  });

  test('the frame starts the trace at the gateway, as a root span with the frame attributes', () => {
    const root = only(spans, 'root span', (s) => s.parentSpanId === '');
    expect(root).toMatchObject({ service: 'gateway', name: 'gateway.receive msg', kind: SERVER });
    expect(root.attributes).toMatchObject({ 'ccp1.frame.type': 'msg', 'commucat.device_id': alice.deviceId, 'commucat.frame.outcome': 'queued', 'commucat.gateway_id': fleet.gatewayId(0) });
    // Only this message is in this trace: the joins made traces of their own.
    expect(spans.filter((s) => s.name.startsWith('gateway.receive'))).toHaveLength(1);
  });

  test('every hop is in the same trace, from the right service, in parent/child order', () => {
    const root = only(spans, 'root', (s) => s.parentSpanId === '');
    const publishInbound = only(spans, 'router queue publish', (s) => s.name === 'publish router.inbound');
    expect(publishInbound).toMatchObject({ service: 'gateway', kind: PRODUCER, parentSpanId: root.spanId });

    const consume = only(spans, 'router consume', (s) => s.name === 'process router.inbound');
    expect(consume).toMatchObject({ service: 'router', kind: CONSUMER, parentSpanId: publishInbound.spanId });

    const handle = only(spans, 'router handle', (s) => s.name === 'router.handle msg');
    expect(handle).toMatchObject({ service: 'router', parentSpanId: consume.spanId });
    expect(handle.attributes).toMatchObject({ 'ccp1.frame.type': 'msg', 'commucat.result': 'ok' });

    // Relay Enqueue: a CLIENT span in the router and the SERVER span in relay, context in gRPC metadata.
    const enqueueServer = only(spans, 'relay Enqueue server span', (s) => s.service === 'relay' && s.name.endsWith('RelayService/Enqueue'));
    expect(enqueueServer.kind).toBe(SERVER);
    const enqueueClient = parentOf(enqueueServer, spans)!;
    expect(enqueueClient).toMatchObject({ service: 'router', kind: CLIENT, name: enqueueServer.name });
    expect(lineage(enqueueServer, spans)).toContain(handle);

    // The delivery to Bob's gateway: router publish → gateway-1 consume → write.
    const publishDelivery = only(spans, 'delivery publish', (s) => s.name === 'publish gateway.deliver');
    expect(publishDelivery).toMatchObject({ service: 'router', kind: PRODUCER });
    expect(lineage(publishDelivery, spans)).toContain(handle);
    const consumeDelivery = only(spans, 'delivery consume', (s) => s.name === 'process gateway.deliver');
    expect(consumeDelivery).toMatchObject({ service: 'gateway', kind: CONSUMER, parentSpanId: publishDelivery.spanId });
    const write = only(spans, 'delivery write', (s) => s.name === 'gateway.write_delivery');
    expect(write).toMatchObject({ service: 'gateway', parentSpanId: consumeDelivery.spanId });
    expect(write.attributes).toMatchObject({ 'commucat.device_id': bob.deviceId, 'commucat.delivery.outcome': 'written' });
    expect(Number(write.attributes['commucat.relay_seq'])).toBeGreaterThan(0);

    // Alice's Ack: router publish of the reply → gateway-0 consume → write.
    const publishReply = only(spans, 'reply publish', (s) => s.name === 'publish gateway.reply');
    expect(publishReply.service).toBe('router');
    expect(lineage(publishReply, spans)).toContain(handle);
    const reply = only(spans, 'reply write', (s) => s.name === 'gateway.write_reply');
    expect(reply.service).toBe('gateway');
    expect(parentOf(reply, spans)).toMatchObject({ name: 'process gateway.reply', parentSpanId: publishReply.spanId });
    expect(reply.attributes).toMatchObject({ 'commucat.device_id': alice.deviceId, 'commucat.delivery.outcome': 'written' });

    // Nothing in the trace is orphaned: every span leads back to the gateway's root span.
    for (const span of spans) expect(lineage(span, spans).at(-1)).toBe(root);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'router', 'relay', 'presence']));
  });

  test('log lines written while handling the frame carry its trace_id and span_id', () => {
    const handle = only(spans, 'router handle', (s) => s.name === 'router.handle msg');
    const lines = fleet.logOf('router').split('\n').filter((line) => line.includes('"frame handled"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.trace_id === traceId)).toMatchObject({ span_id: handle.spanId, type: 'msg', device_id: alice.deviceId });
  });
});

describe('handshakes, REST calls', () => {
  test('a handshake is a trace of its own, covering the Hello check and the directory and presence calls', async () => {
    const handshake = await receiver.waitFor('bob handshake span', () =>
      receiver.spans.find((s) => s.name === 'gateway.handshake' && s.attributes['commucat.device_id'] === bob.deviceId));
    expect(handshake).toMatchObject({ service: 'gateway', kind: SERVER, parentSpanId: '' });
    expect(handshake.attributes).toMatchObject({ 'commucat.handshake.result': 'ok', 'commucat.handshake.pattern': 'XK', 'commucat.gateway_id': fleet.gatewayId(1) });
    const spans = await receiver.waitFor('handshake children', () => {
      const t = receiver.trace(handshake.traceId);
      return t.some((s) => s.service === 'directory') && t.some((s) => s.service === 'presence') ? t : undefined;
    });
    // Not the message's trace, nor any frame's.
    expect(spans.some((s) => s.name.startsWith('gateway.receive'))).toBe(false);
    expect(only(spans, 'hello verify', (s) => s.name === 'gateway.hello.verify').parentSpanId).toBe(handshake.spanId);
    const authorize = only(spans, 'AuthorizeHello server span', (s) => s.service === 'directory' && s.name.endsWith('DirectoryService/AuthorizeHello'));
    expect(authorize.kind).toBe(SERVER);
    expect(parentOf(authorize, spans)).toMatchObject({ service: 'gateway', kind: CLIENT, parentSpanId: handshake.spanId });
    for (const span of spans) expect(lineage(span, spans).at(-1)).toBe(handshake);

    const lines = fleet.logOf('gateway-1').split('\n').filter((line) => line.includes('"handshake complete"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.device_id === bob.deviceId)).toMatchObject({ trace_id: handshake.traceId, span_id: handshake.spanId });
  });

  test('a refused handshake ends its span with the refusal kind, and the refusal log line joins it', async () => {
    const stranger = newIdentity('trace-wrong-key');
    // msg1 encrypted to a key the gateway does not have: refused as an invalid request.
    await expect(connectTo(fleet, stranger, { serverStatic: randomBytes(32) })).rejects.toThrow();
    const refused = await receiver.waitFor('refused handshake span', () =>
      receiver.spans.find((s) => s.name === 'gateway.handshake' && s.attributes['commucat.device_id'] === stranger.deviceId));
    expect(refused).toMatchObject({ parentSpanId: '', statusCode: 2 });
    expect(refused.attributes['commucat.handshake.result']).toBe('invalid');
    const line = fleet.logOf('gateway-0').split('\n').filter((l) => l.includes('"handshake refused"')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((entry) => entry.trace_id === refused.traceId);
    expect(line).toMatchObject({ kind: 'invalid', span_id: refused.spanId });
  });

  test('a REST call is a SERVER span with its route and status, and its gRPC calls are children', async () => {
    const token = (alice.link as ClientConnection).session;
    const reply = await rest(fleet, 'GET', '/api/friends', { token });
    expect(reply.status).toBe(200);
    const server = await receiver.waitFor('GET /api/friends span', () => receiver.spans.find((s) => s.name === 'GET /api/friends'));
    expect(server).toMatchObject({ service: 'gateway', kind: SERVER, parentSpanId: '' });
    expect(server.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.route': '/api/friends', 'http.response.status_code': 200 });
    const spans = await receiver.waitFor('session check under the REST span', () => {
      const t = receiver.trace(server.traceId);
      return t.some((s) => s.service === 'directory' && s.name.endsWith('DirectoryService/ValidateSession')) ? t : undefined;
    });
    const validate = only(spans, 'ValidateSession server span', (s) => s.service === 'directory' && s.name.endsWith('DirectoryService/ValidateSession'));
    expect(lineage(validate, spans).at(-1)).toBe(server);
  });

  test('a REST call continues the caller\'s traceparent and reports errors by status', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const missing = await rest(fleet, 'GET', '/api/friends', { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect(missing.status).toBe(401);
    const server = await receiver.waitFor('continued REST span', () => receiver.spans.find((s) => s.traceId === traceId));
    expect(server).toMatchObject({ service: 'gateway', name: 'GET /api/friends', parentSpanId: parentId });
    expect(server.attributes['http.response.status_code']).toBe(401);
  });
});

describe('federation deliveries', () => {
  let pair: FederatedPair;
  let carol: Peer;
  let dave: Peer;

  beforeAll(async () => {
    // startFederatedPair takes no env of its own: the fleets pass the test process's OTEL_* on.
    const saved = { endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, delay: process.env.OTEL_BSP_SCHEDULE_DELAY };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '200';
    try {
      pair = await startFederatedPair();
    } finally {
      restore('OTEL_EXPORTER_OTLP_ENDPOINT', saved.endpoint);
      restore('OTEL_BSP_SCHEDULE_DELAY', saved.delay);
    }
    carol = await connectPeer(pair.a, 'trace-carol');
    dave = await connectPeer(pair.b, 'trace-dave');
  });
  afterAll(async () => {
    await carol?.close();
    await dave?.close();
    await pair?.stop();
  });

  test('outbox dispatch → POST with traceparent → peer gateway → federation Receive is one trace', async () => {
    const target = `${dave.identity.handle!}@${pair.b.domain}`;
    const asked = await rest(pair.a, 'POST', `/api/friends/requests/${encodeURIComponent(target)}`, { token: (carol.link as ClientConnection).session, body: { message: 'traced' } });
    expect(asked.status).toBe(202);
    const spans = await receiver.waitFor('federation trace reaching the peer', () => {
      for (const dispatch of receiver.spans.filter((s) => s.name === 'federation.dispatch' && s.attributes['commucat.federation.peer'] === pair.b.domain)) {
        const t = receiver.trace(dispatch.traceId);
        if (t.some((s) => s.name.endsWith('FederationService/Receive') && s.kind === SERVER)) return t;
      }
      return undefined;
    }, 30_000);
    const dispatch = only(spans, 'dispatch span', (s) => s.name === 'federation.dispatch');
    expect(dispatch).toMatchObject({ service: 'federation', kind: PRODUCER, parentSpanId: '' });
    expect(dispatch.attributes).toMatchObject({ 'commucat.federation.outcome': 'delivered' });
    const post = only(spans, 'HTTP client span', (s) => s.name === 'POST' && s.kind === CLIENT);
    expect(post).toMatchObject({ service: 'federation', parentSpanId: dispatch.spanId });
    expect(post.attributes['http.response.status_code']).toBe(202);
    const inbound = only(spans, 'peer REST span', (s) => s.name === 'POST /federation/events');
    expect(inbound).toMatchObject({ service: 'gateway', kind: SERVER, parentSpanId: post.spanId });
    const receive = only(spans, 'Receive server span', (s) => s.name.endsWith('FederationService/Receive') && s.kind === SERVER);
    expect(receive.service).toBe('federation');
    expect(lineage(receive, spans)).toContain(inbound);
    for (const span of spans) expect(lineage(span, spans).at(-1)).toBe(dispatch);
    // Every export request of the whole file was readable OTLP/JSON.
    expect(receiver.rejected).toEqual([]);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
