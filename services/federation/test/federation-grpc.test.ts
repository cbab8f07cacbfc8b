import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { FederationServiceClient, FederationServiceService } from '@commucat/contracts';
import { callUnary, createGrpcClient, createServiceRuntime, GrpcStatusError, type ServiceRuntime } from '@commucat/service-kit';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { eventDigest, formatCreatedAt, type FederationEvent } from '../src/event-digest';
import { federationMetrics } from '../src/federation-metrics';
import { FEDERATION_ERROR_CODE_METADATA, federationHandlers } from '../src/federation-service';
import { InboundProcessor } from '../src/inbound';
import { OutboxStore } from '../src/outbox';
import { PeerDirectory } from '../src/peers';
import { serializeSignedEvent } from '../src/signed-event';
import { localSigner } from '../src/signer';

let db: MigratedSchema;
let telemetry: Telemetry;
let runtime: ServiceRuntime;
let client: FederationServiceClient;
let adminPort: number;
const peerSigner = localSigner(randomBytes(32));
let failDelivery = false;

beforeAll(async () => {
  db = await migratedSchema('fedgrpc');
  telemetry = initTelemetry({ serviceName: 'federation-test', logLevel: 'silent' });
  runtime = createServiceRuntime({ name: 'federation', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry });
  const peers = new PeerDirectory([{ domain: 'peer.example', url: 'https://127.0.0.1:1', publicKey: peerSigner.publicKey }]);
  const metrics = federationMetrics(telemetry.registry);
  const inbound = new InboundProcessor({
    pool: db.pool, peers, metrics, localDomain: 'local.example',
    delivery: { deliver: async () => { if (failDelivery) throw new Error('router down'); } },
  });
  runtime.addGrpcService(FederationServiceService, federationHandlers({ outbox: new OutboxStore(db.pool), inbound, peers }));
  const ports = await runtime.start();
  adminPort = ports.adminPort;
  client = createGrpcClient(FederationServiceClient, `127.0.0.1:${ports.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await runtime?.stop();
  await telemetry?.shutdown();
  await db?.drop();
});

async function body(overrides: Partial<FederationEvent> = {}, signer = peerSigner): Promise<Buffer> {
  const event: FederationEvent = { event_id: randomUUID(), origin: 'peer.example', scope: 'local.example', created_at: formatCreatedAt(new Date()), payload: { n: 1 }, ...overrides };
  const digest = eventDigest(event);
  return Buffer.from(serializeSignedEvent({ event, digest, signature: await signer.sign(digest) }));
}

async function refusal(request: Promise<unknown>): Promise<{ code: number; reason: unknown }> {
  const err = await request.then(() => undefined, (e: unknown) => e);
  expect(GrpcStatusError.is(err)).toBe(true);
  const status = err as GrpcStatusError;
  return { code: status.code, reason: status.metadata.get(FEDERATION_ERROR_CODE_METADATA)[0] };
}

test('Receive answers accepted, then duplicate, and refusals carry the trailer code', async () => {
  const first = await body();
  expect(await callUnary(client, 'receive', { body: first, headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 'accepted', peer: 'peer.example' });
  expect((await callUnary(client, 'receive', { body: first, headers: {} })).status).toBe('duplicate');

  expect(await refusal(callUnary(client, 'receive', { body: Buffer.from('{'), headers: {} }))).toEqual({ code: grpc.status.INVALID_ARGUMENT, reason: 'malformed' });
  expect(await refusal(callUnary(client, 'receive', { body: await body({ origin: 'x.example' }), headers: {} }))).toEqual({ code: grpc.status.PERMISSION_DENIED, reason: 'unknown_peer' });
  expect(await refusal(callUnary(client, 'receive', { body: await body({}, localSigner(randomBytes(32))), headers: {} }))).toEqual({ code: grpc.status.PERMISSION_DENIED, reason: 'bad_signature' });
  expect(await refusal(callUnary(client, 'receive', { body: await body({ created_at: '2020-01-01T00:00:00Z' }), headers: {} }))).toEqual({ code: grpc.status.FAILED_PRECONDITION, reason: 'stale' });
  const id = randomUUID();
  await callUnary(client, 'receive', { body: await body({ event_id: id }), headers: {} });
  expect(await refusal(callUnary(client, 'receive', { body: await body({ event_id: id, payload: { n: 2 } }), headers: {} }))).toEqual({ code: grpc.status.ALREADY_EXISTS, reason: 'replay' });
  failDelivery = true;
  expect(await refusal(callUnary(client, 'receive', { body: await body(), headers: {} }))).toEqual({ code: grpc.status.UNAVAILABLE, reason: 'delivery_failed' });
  failDelivery = false;

  const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  expect(metrics).toMatch(/commucat_federation_inbound_rejected_total\{[^}]*reason="stale"[^}]*\} 1\b/);
});

test('Enqueue is idempotent, refuses unknown peers, and Outbox lists the counts', async () => {
  const key = randomUUID();
  const first = await callUnary(client, 'enqueue', { peer: 'PEER.example', eventType: 'relay', payloadJson: '{"big":18446744073709551615}', idempotencyKey: key, orderKey: '' });
  expect(first.created).toBe(true);
  expect(await callUnary(client, 'enqueue', { peer: 'peer.example', eventType: 'relay', payloadJson: '{}', idempotencyKey: key, orderKey: '' })).toEqual({ ...first, created: false });
  expect(await refusal(callUnary(client, 'enqueue', { peer: 'nobody.example', eventType: 'relay', payloadJson: '{}', idempotencyKey: 'k', orderKey: '' }))).toEqual({ code: grpc.status.INVALID_ARGUMENT, reason: 'invalid_argument' });
  const outbox = await callUnary(client, 'outbox', { deadLimit: 0 });
  expect(outbox).toMatchObject({ pending: 1, inFlight: 0, delivered: 0, dead: 0, deadLetters: [] });
});
