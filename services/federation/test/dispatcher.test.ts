import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { ed25519Verify } from '@commucat/crypto';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { OutboxDispatcher, type DispatcherOptions } from '../src/dispatcher';
import { eventDigest } from '../src/event-digest';
import { federationMetrics } from '../src/federation-metrics';
import { OutboxStore } from '../src/outbox';
import { PeerDirectory } from '../src/peers';
import { parseSignedEvent, type SignedEvent } from '../src/signed-event';
import { localSigner } from '../src/signer';

/** A peer's /federation/events endpoint over real TLS that answers from a script of status codes. */
interface FakePeer {
  url: string;
  received: { event: SignedEvent; type: string | undefined; at: number }[];
  /** Status codes for the next requests; 202 once exhausted. */
  script: number[];
  close(): Promise<void>;
}

let certDir: string;
let cert: Buffer;
let key: Buffer;
let db: MigratedSchema;
const open: FakePeer[] = [];

beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'fed-tls-'));
  execFileSync('bash', [path.resolve(__dirname, '../../../scripts/tls-cert.sh'), certDir], { stdio: 'ignore' });
  cert = readFileSync(path.join(certDir, 'gateway.crt'));
  key = readFileSync(path.join(certDir, 'gateway.key'));
  db = await migratedSchema('fedout');
});
afterAll(async () => {
  await Promise.all(open.map((p) => p.close()));
  await db.drop();
  rmSync(certDir, { recursive: true, force: true });
});

async function fakePeer(script: number[] = []): Promise<FakePeer> {
  const peer: FakePeer = { url: '', received: [], script, close: async () => undefined };
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/federation/events') {
        peer.received.push({ event: parseSignedEvent(Buffer.concat(chunks)), type: req.headers['x-commucat-federation-event-type'] as string | undefined, at: Date.now() });
      }
      res.statusCode = req.url === '/federation/events' ? (peer.script.shift() ?? 202) : 404;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.url = `https://localhost:${(server.address() as AddressInfo).port}`;
  peer.close = () => new Promise((resolve) => server.close(() => resolve()));
  open.push(peer);
  return peer;
}

const signer = localSigner(randomBytes(32));
const store = () => new OutboxStore(db.pool);

function dispatcher(peerDomain: string, url: string, overrides: Partial<DispatcherOptions> = {}): OutboxDispatcher {
  return new OutboxDispatcher({
    store: store(),
    peers: new PeerDirectory([{ domain: peerDomain, url, publicKey: randomBytes(32) }]),
    signer,
    domain: 'local.example',
    tls: { ca: cert },
    backoff: { baseMs: 20, maxMs: 80 },
    maxAttempts: 5,
    perPeerConcurrency: 1,
    ...overrides,
  });
}

const freshPeer = () => `peer-${randomBytes(4).toString('hex')}.example`;
const rowOf = async (id: string) =>
  (await db.pool.query<{ state: string; attempts: number; last_error: string | null; next_attempt_at: Date }>('SELECT * FROM federation_outbox WHERE id = $1', [id])).rows[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ticks until `done` or the rows run out of retries; backoff here is tens of milliseconds. */
async function drain(d: OutboxDispatcher, done: () => Promise<boolean>, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds && !(await done()); i++) {
    await d.tick();
    await sleep(10);
  }
}

describe('outbox store', () => {
  it('stores one row per (peer, idempotency key) and refuses non-JSON payloads', async () => {
    const peer = freshPeer();
    const first = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{"n":1}', idempotencyKey: 'k1' });
    const again = await store().enqueue({ peer: peer.toUpperCase(), eventType: 'relay', payloadJson: '{"n":2}', idempotencyKey: 'k1' });
    expect(again).toEqual({ ...first, created: false });
    await expect(store().enqueue({ peer, eventType: 'relay', payloadJson: '{nope', idempotencyKey: 'k2' })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('prunes old delivered rows but keeps dead letters and open rows', async () => {
    const peer = freshPeer();
    const outbox = store();
    const rows = [];
    for (const key of ['delivered', 'dead', 'pending']) rows.push(await outbox.enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: key }));
    await db.pool.query(`UPDATE federation_outbox SET state = 'delivered', finished_at = now() - interval '2 days' WHERE id = $1`, [rows[0]!.id]);
    await db.pool.query(`UPDATE federation_outbox SET state = 'dead', finished_at = now() - interval '2 days' WHERE id = $1`, [rows[1]!.id]);
    expect(await outbox.pruneDelivered(86400)).toBeGreaterThanOrEqual(1);
    const left = await db.pool.query<{ state: string }>('SELECT state FROM federation_outbox WHERE peer = $1 ORDER BY id', [peer]);
    expect(left.rows.map((r) => r.state)).toEqual(['dead', 'pending']);
  });
});

describe('outbox dispatcher', () => {
  it('retries with backoff until the peer accepts, sending a signed, fresh event to /federation/events', async () => {
    const server = await fakePeer([503, 500, 503]);
    const peer = freshPeer();
    const registry = new Registry();
    // A backoff long enough that the immediate second tick below is surely early, even on a loaded machine.
    const d = dispatcher(peer, server.url, { metrics: federationMetrics(registry), backoff: { baseMs: 300, maxMs: 600 } });
    const { id, eventId } = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{"sequence":18446744073709551615}', idempotencyKey: randomUUID() });

    await d.tick();
    const afterFirst = await rowOf(id);
    expect(afterFirst).toMatchObject({ state: 'pending', attempts: 1, last_error: 'peer answered 503' });
    expect(afterFirst.next_attempt_at.getTime()).toBeGreaterThan(Date.now() - 5);
    // Not due yet: an immediate tick must not send again.
    expect(await d.tick()).toBe(0);

    await drain(d, async () => (await rowOf(id)).state === 'delivered');
    expect(await rowOf(id)).toMatchObject({ state: 'delivered', attempts: 4, last_error: null });
    expect(server.received).toHaveLength(4);
    const gaps = server.received.slice(1).map((r, i) => r.at - server.received[i]!.at);
    expect(gaps.every((g) => g >= 150)).toBe(true); // at least half the 300 ms base (jitter)
    for (const { event, type } of server.received) {
      expect(type).toBe('relay');
      expect(event.event).toMatchObject({ event_id: eventId, origin: 'local.example', scope: peer });
      expect((event.event.payload as { sequence: bigint }).sequence).toBe(18446744073709551615n);
      expect(ed25519Verify(signer.publicKey, eventDigest(event.event), event.signature)).toBe(true);
    }
    expect((await registry.getSingleMetric('commucat_federation_outbox_delivered_total')!.get()).values[0]!.value).toBe(1);
    expect((await registry.getSingleMetric('commucat_federation_outbox_failed_attempts_total')!.get()).values[0]!.value).toBe(3);
  });

  it('dead-letters after max attempts and on a permanent 4xx, and counts dead letters', async () => {
    const server = await fakePeer([500, 500, 500, 400]);
    const peer = freshPeer();
    const registry = new Registry();
    const d = dispatcher(peer, server.url, { maxAttempts: 3, perPeerConcurrency: 2, metrics: federationMetrics(registry) });
    const exhausted = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
    await drain(d, async () => (await rowOf(exhausted.id)).state === 'dead');
    expect(await rowOf(exhausted.id)).toMatchObject({ state: 'dead', attempts: 3, last_error: 'peer answered 500' });

    const rejected = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
    await drain(d, async () => (await rowOf(rejected.id)).state === 'dead', 20);
    expect(await rowOf(rejected.id)).toMatchObject({ state: 'dead', attempts: 1, last_error: 'peer answered 400' });
    expect(server.received).toHaveLength(4);
    expect((await registry.getSingleMetric('commucat_federation_outbox_dead_total')!.get()).values[0]!.value).toBe(2);
    const summary = await store().summary();
    expect(summary.counts.dead).toBeGreaterThanOrEqual(2);
    expect(summary.dead.map((r) => r.id)).toEqual(expect.arrayContaining([exhausted.id, rejected.id]));
  });

  it('treats 408 and 429 as "try later", not as a permanent refusal', async () => {
    const server = await fakePeer([429, 408]);
    const peer = freshPeer();
    const d = dispatcher(peer, server.url);
    const { id } = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
    await drain(d, async () => (await rowOf(id)).state !== 'pending' && (await rowOf(id)).state !== 'in_flight');
    expect(await rowOf(id)).toMatchObject({ state: 'delivered', attempts: 3 });
  });

  it('keeps the order of one order key, even when its head row has to be retried', async () => {
    const server = await fakePeer([503, 503]);
    const peer = freshPeer();
    const d = dispatcher(peer, server.url, { perPeerConcurrency: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await store().enqueue({ peer, eventType: 'relay', payloadJson: `{"i":${i}}`, idempotencyKey: randomUUID(), orderKey: 'one-device' })).eventId);
    await drain(d, async () => new Set(server.received.map((r) => r.event.event.event_id)).size === 4);
    const firstDelivery = server.received.slice(2).map((r) => r.event.event.event_id);
    expect(firstDelivery).toEqual(ids);
  });

  it('never has more rows of one peer in flight than the per-peer limit', async () => {
    let inFlight = 0;
    let maxSeen = 0;
    const server = https.createServer({ cert, key }, (req, res) => {
      inFlight += 1;
      maxSeen = Math.max(maxSeen, inFlight);
      req.resume();
      setTimeout(() => { inFlight -= 1; res.statusCode = 202; res.end(); }, 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://localhost:${(server.address() as AddressInfo).port}`;
    const peer = freshPeer();
    for (let i = 0; i < 8; i++) await store().enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
    const a = dispatcher(peer, url, { perPeerConcurrency: 3 });
    const b = dispatcher(peer, url, { perPeerConcurrency: 3 });
    const delivered = async () => Number((await db.pool.query(`SELECT count(*) AS n FROM federation_outbox WHERE peer = $1 AND state = 'delivered'`, [peer])).rows[0].n) === 8;
    await Promise.all([drain(a, delivered), drain(b, delivered)]);
    await new Promise((r) => server.close(r));
    expect(await delivered()).toBe(true);
    expect(maxSeen).toBeLessThanOrEqual(3);
    expect(maxSeen).toBeGreaterThan(1);
  });

  it('two dispatchers on one database never send the same row twice', async () => {
    const server = await fakePeer();
    const peers = [freshPeer(), freshPeer()];
    const dispatchers = [0, 1].map(() =>
      new OutboxDispatcher({
        store: store(), signer, domain: 'local.example', tls: { ca: cert }, backoff: { baseMs: 20, maxMs: 80 }, maxAttempts: 5, perPeerConcurrency: 4,
        peers: new PeerDirectory(peers.map((domain) => ({ domain, url: server.url, publicKey: randomBytes(32) }))),
      }),
    );
    const total = 30;
    for (let i = 0; i < total; i++) await store().enqueue({ peer: peers[i % 2]!, eventType: 'relay', payloadJson: `{"i":${i}}`, idempotencyKey: randomUUID() });
    const doneCount = async () => Number((await db.pool.query(`SELECT count(*) AS n FROM federation_outbox WHERE peer = ANY($1) AND state = 'delivered'`, [peers])).rows[0].n);
    await Promise.all(dispatchers.map((d) => drain(d, async () => (await doneCount()) === total)));
    expect(await doneCount()).toBe(total);
    const ids = server.received.map((r) => r.event.event.event_id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
  });

  it('reclaims a row whose lease ran out and ignores the late answer of the first attempt', async () => {
    const server = await fakePeer();
    const peer = freshPeer();
    const outbox = store();
    const { id } = await outbox.enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
    const [stuck] = await outbox.claim({ peers: [peer], perPeerLimit: 1, leaseSeconds: 60 });
    expect(stuck).toMatchObject({ id, attempts: 1 });
    // Another claimer sees nothing while the lease holds…
    expect(await outbox.claim({ peers: [peer], perPeerLimit: 1, leaseSeconds: 60 })).toEqual([]);
    // …and takes the row over once it has expired (the first process died).
    await db.pool.query(`UPDATE federation_outbox SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
    expect(await dispatcher(peer, server.url).tick()).toBe(1);
    expect(await rowOf(id)).toMatchObject({ state: 'delivered', attempts: 2 });
    await outbox.markRetry(stuck!, 1000, 'late failure of attempt 1');
    expect(await rowOf(id)).toMatchObject({ state: 'delivered', last_error: null });
  });

  it('runs as a loop between start and stop', async () => {
    const server = await fakePeer();
    const peer = freshPeer();
    const d = dispatcher(peer, server.url, { intervalMs: 10 });
    const { id } = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
    d.start();
    for (let i = 0; i < 200 && (await rowOf(id)).state !== 'delivered'; i++) await sleep(10);
    await d.stop();
    expect((await rowOf(id)).state).toBe('delivered');
  });

  it('holds the rows behind a retried row of the same order key, while other keys go ahead', async () => {
    // Fails the first attempt of the event marked "fail", accepts everything else.
    const failedOnce = new Set<string>();
    const received: string[] = [];
    const server = https.createServer({ cert, key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { event } = parseSignedEvent(Buffer.concat(chunks));
        const payload = event.payload as { name: string; fail?: boolean };
        const refuse = payload.fail === true && !failedOnce.has(payload.name);
        if (refuse) failedOnce.add(payload.name);
        else received.push(payload.name);
        res.statusCode = refuse ? 503 : 202;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://localhost:${(server.address() as AddressInfo).port}`;
    const peer = freshPeer();
    const enqueue = (name: string, orderKey: string, fail = false) =>
      store().enqueue({ peer, eventType: 'relay', payloadJson: JSON.stringify({ name, fail }), idempotencyKey: randomUUID(), orderKey });
    await enqueue('x1', 'device-x', true);
    await enqueue('x2', 'device-x');
    await enqueue('y1', 'device-y');
    const d = dispatcher(peer, url, { perPeerConcurrency: 4 });

    // One round: x1 fails and backs off; x2 waits behind it; y1 (another key) is delivered.
    expect(await d.tick()).toBe(2);
    expect(received).toEqual(['y1']);
    const names = async () => (await db.pool.query<{ payload: string; state: string }>('SELECT payload, state FROM federation_outbox WHERE peer = $1 ORDER BY id', [peer])).rows;
    await drain(d, async () => (await names()).every((r) => r.state === 'delivered'));
    await new Promise((r) => server.close(r));
    expect(received).toEqual(['y1', 'x1', 'x2']);
  });

  it('sends a row right after wake() instead of at the next poll', async () => {
    const server = await fakePeer();
    const peer = freshPeer();
    const d = dispatcher(peer, server.url, { intervalMs: 600_000 });
    d.start();
    try {
      await sleep(50); // the start-up round has found nothing
      const { id } = await store().enqueue({ peer, eventType: 'relay', payloadJson: '{}', idempotencyKey: randomUUID() });
      d.wake();
      for (let i = 0; i < 300 && (await rowOf(id)).state !== 'delivered'; i++) await sleep(10);
      expect((await rowOf(id)).state).toBe('delivered');
    } finally {
      await d.stop();
    }
  });
});
