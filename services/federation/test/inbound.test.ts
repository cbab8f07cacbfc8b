import { randomBytes, randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { FederationError } from '../src/errors';
import { eventDigest, formatCreatedAt, type FederationEvent } from '../src/event-digest';
import { federationMetrics } from '../src/federation-metrics';
import { InboundProcessor, type InboundDelivery } from '../src/inbound';
import { PeerDirectory } from '../src/peers';
import { serializeSignedEvent, type SignedEvent } from '../src/signed-event';
import { localSigner } from '../src/signer';

let db: MigratedSchema;
beforeAll(async () => { db = await migratedSchema('fedin'); });
afterAll(() => db.drop());

const peerSigner = localSigner(randomBytes(32));
const strangerSigner = localSigner(randomBytes(32));
const peers = new PeerDirectory([{ domain: 'Peer.Example', url: 'https://127.0.0.1:1', publicKey: peerSigner.publicKey }]);

async function signedBody(overrides: Partial<FederationEvent> = {}, signer = peerSigner): Promise<string> {
  const event: FederationEvent = {
    event_id: randomUUID(), origin: 'peer.example', scope: 'local.example', created_at: formatCreatedAt(new Date()),
    payload: { target: 'dev@local.example', sequence: 9007199254740993n }, ...overrides,
  };
  const digest = eventDigest(event);
  return serializeSignedEvent({ event, digest, signature: await signer.sign(digest) });
}

function recorder(): InboundDelivery & { events: SignedEvent[]; failNext: number } {
  const r = {
    events: [] as SignedEvent[],
    failNext: 0,
    async deliver(event: SignedEvent) {
      if (r.failNext > 0) { r.failNext -= 1; throw new Error('router unavailable'); }
      r.events.push(event);
    },
  };
  return r;
}

const processor = (delivery: InboundDelivery, extra: { now?: () => Date; registry?: Registry } = {}) =>
  new InboundProcessor({ pool: db.pool, peers, delivery, localDomain: 'local.example', freshnessSeconds: 300, now: extra.now, metrics: extra.registry ? federationMetrics(extra.registry) : undefined });

const recordCount = async (eventId: string) =>
  Number((await db.pool.query('SELECT count(*) AS n FROM federation_inbound WHERE event_id = $1', [eventId])).rows[0].n);

const code = async (p: Promise<unknown>) => { try { await p; return 'ok'; } catch (e) { return e instanceof FederationError ? e.code : String(e); } };

describe('inbound federation events', () => {
  it('accepts a signed, fresh event from an allowed peer (origin case-insensitive) and delivers it with u64 intact', async () => {
    const delivery = recorder();
    const registry = new Registry();
    const body = await signedBody({ origin: 'PEER.example' });
    const result = await processor(delivery, { registry }).receive(body);
    expect(result).toMatchObject({ status: 'accepted', peer: 'peer.example' });
    expect(delivery.events).toHaveLength(1);
    expect((delivery.events[0]!.event.payload as { sequence: bigint }).sequence).toBe(9007199254740993n);
    expect(await recordCount(result.eventId)).toBe(1);
    expect((await registry.getSingleMetric('commucat_federation_inbound_processed_total')!.get()).values[0]!.value).toBe(1);
  });

  it('rejects an origin that is not on the allow-list', async () => {
    const delivery = recorder();
    expect(await code(processor(delivery).receive(await signedBody({ origin: 'evil.example' }, strangerSigner)))).toBe('unknown_peer');
    expect(delivery.events).toHaveLength(0);
  });

  it('rejects a signature made by another key, a tampered payload and a wrong digest', async () => {
    const delivery = recorder();
    const p = processor(delivery);
    expect(await code(p.receive(await signedBody({}, strangerSigner)))).toBe('bad_signature');
    const tampered = (await signedBody()).replace('dev@local.example', 'other@local.example');
    expect(await code(p.receive(tampered))).toBe('bad_signature');
    const body = JSON.parse(await signedBody()) as { signature: number[] };
    body.signature[0] = (body.signature[0]! + 1) % 256;
    expect(await code(p.receive(JSON.stringify(body)))).toBe('bad_signature');
    expect(delivery.events).toHaveLength(0);
  });

  it('checks the peer before the signature and the signature before freshness', async () => {
    const stale = formatCreatedAt(new Date(Date.now() - 3600_000));
    expect(await code(processor(recorder()).receive(await signedBody({ origin: 'evil.example', created_at: stale }, strangerSigner)))).toBe('unknown_peer');
    expect(await code(processor(recorder()).receive(await signedBody({ created_at: stale }, strangerSigner)))).toBe('bad_signature');
  });

  it('rejects events outside the freshness window, past or future', async () => {
    const delivery = recorder();
    const p = processor(delivery);
    expect(await code(p.receive(await signedBody({ created_at: formatCreatedAt(new Date(Date.now() - 301_000)) })))).toBe('stale');
    expect(await code(p.receive(await signedBody({ created_at: formatCreatedAt(new Date(Date.now() + 301_000)) })))).toBe('stale');
    expect(await code(p.receive(await signedBody({ created_at: formatCreatedAt(new Date(Date.now() - 290_000)) })))).toBe('ok');
    expect(delivery.events).toHaveLength(1);
  });

  it('rejects a validly signed event addressed to another domain (a peer forwarding it to us)', async () => {
    const delivery = recorder();
    expect(await code(processor(delivery).receive(await signedBody({ scope: 'third.example' })))).toBe('wrong_scope');
    expect(await code(processor(delivery).receive(await signedBody({ scope: 'LOCAL.example' })))).toBe('ok');
    expect(delivery.events).toHaveLength(1);
  });

  it('answers duplicate for the same event again without delivering twice', async () => {
    const delivery = recorder();
    const body = await signedBody();
    const p = processor(delivery);
    expect((await p.receive(body)).status).toBe('accepted');
    expect((await p.receive(body)).status).toBe('duplicate');
    expect(delivery.events).toHaveLength(1);
  });

  it('rejects a reused event id carrying different content as a replay', async () => {
    const delivery = recorder();
    const p = processor(delivery);
    const eventId = randomUUID();
    await p.receive(await signedBody({ event_id: eventId }));
    expect(await code(p.receive(await signedBody({ event_id: eventId, payload: { target: 'x@local.example' } })))).toBe('replay');
    expect(delivery.events).toHaveLength(1);
  });

  it('writes no idempotency record when delivery fails, so the retry is processed', async () => {
    const delivery = recorder();
    delivery.failNext = 1;
    const p = processor(delivery);
    const body = await signedBody();
    const eventId = (JSON.parse(body) as { event: { event_id: string } }).event.event_id;
    expect(await code(p.receive(body))).toBe('delivery_failed');
    expect(await recordCount(eventId)).toBe(0);
    expect((await p.receive(body)).status).toBe('accepted');
    expect(delivery.events).toHaveLength(1);
    expect(await recordCount(eventId)).toBe(1);
  });

  it('delivers an event once when the same body arrives concurrently', async () => {
    const delivery = recorder();
    const p = processor(delivery);
    const body = await signedBody();
    const results = await Promise.all([p.receive(body), p.receive(body), p.receive(body)]);
    expect(results.map((r) => r.status).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    expect(delivery.events).toHaveLength(1);
  });

  it('prunes records older than the retention window (never shorter than twice the freshness window)', async () => {
    const p = processor(recorder());
    expect(p.retentionSeconds).toBeGreaterThanOrEqual(600);
    const result = await p.receive(await signedBody());
    await db.pool.query(`UPDATE federation_inbound SET processed_at = now() - interval '2 days' WHERE event_id = $1`, [result.eventId]);
    const kept = await p.receive(await signedBody());
    expect(await p.prune()).toBeGreaterThanOrEqual(1);
    expect(await recordCount(result.eventId)).toBe(0);
    expect(await recordCount(kept.eventId)).toBe(1);
  });
});
