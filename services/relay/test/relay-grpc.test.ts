import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { RelayServiceClient, RelayServiceService } from '@commucat/contracts';
import { callUnary, createGrpcClient, createServiceRuntime, GrpcStatusError, type ServiceRuntime } from '@commucat/service-kit';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { relayMetrics } from '../src/relay-metrics';
import { RelayQueue } from '../src/relay-queue';
import { RELAY_ERROR_CODE_METADATA, relayHandlers } from '../src/relay-service';

let db: MigratedSchema;
let telemetry: Telemetry;
let runtime: ServiceRuntime;
let client: RelayServiceClient;
let adminPort: number;

beforeAll(async () => {
  db = await migratedSchema('relaygrpc');
  telemetry = initTelemetry({ serviceName: 'relay-test', logLevel: 'silent' });
  runtime = createServiceRuntime({ name: 'relay', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry });
  const queue = new RelayQueue({ pool: db.pool, defaultTtlSeconds: 600, metrics: relayMetrics(telemetry.registry), logger: pino({ level: 'silent' }) });
  runtime.addGrpcService(RelayServiceService, relayHandlers(queue));
  const ports = await runtime.start();
  adminPort = ports.adminPort;
  client = createGrpcClient(RelayServiceClient, `127.0.0.1:${ports.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await runtime?.stop();
  await telemetry?.shutdown();
  await db?.drop();
});

const envelope = (messageId: string, frame: Buffer) => ({
  deviceId: 'device-g', messageId, channelId: 4_000_000_000, frame, senderDeviceId: 'device-s', enqueuedAt: 0, expiresAt: 0, seq: 0,
});

test('enqueue, drain, depth and acknowledge over gRPC carry every field', async () => {
  const before = Date.now();
  const enqueued = await callUnary(client, 'enqueue', { envelopes: [envelope('m1', Buffer.from([1, 2, 3])), envelope('m2', Buffer.from([4]))], ttlSeconds: 0 });
  expect(enqueued.envelopes.map((e) => e.seq)).toEqual([1, 2]);
  const first = enqueued.envelopes[0]!;
  expect(first).toMatchObject({ deviceId: 'device-g', messageId: 'm1', channelId: 4_000_000_000, senderDeviceId: 'device-s' });
  expect(Buffer.from(first.frame)).toEqual(Buffer.from([1, 2, 3]));
  expect(first.enqueuedAt).toBeGreaterThanOrEqual(before - 5_000);
  expect(first.expiresAt - first.enqueuedAt).toBe(600_000);

  const retried = await callUnary(client, 'enqueue', { envelopes: [envelope('m1', Buffer.from([9]))], ttlSeconds: 0 });
  expect(retried.envelopes).toEqual([first]);

  const page = await callUnary(client, 'drain', { deviceId: 'device-g', afterSeq: 0, limit: 1 });
  expect(page.more).toBe(true);
  expect(page.envelopes).toEqual([first]);
  expect(await callUnary(client, 'depth', { deviceId: 'device-g' })).toEqual({ envelopes: 2 });
  expect(await callUnary(client, 'acknowledge', { deviceId: 'device-g', upToSeq: 1, seqs: [2] })).toEqual({ removed: 2 });
  expect(await callUnary(client, 'depth', { deviceId: 'device-g' })).toEqual({ envelopes: 0 });

  // the counters live in the service's registry, so /metrics shows them
  const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  expect(metrics).toMatch(/^commucat_relay_enqueued_total{service="relay-test"} 2$/m);
  expect(metrics).toMatch(/^commucat_relay_duplicates_total{service="relay-test"} 1$/m);
  expect(metrics).toMatch(/^commucat_relay_acknowledged_total{service="relay-test"} 2$/m);
});

test('a refused request arrives as INVALID_ARGUMENT (3) with the message and the error code trailer', async () => {
  const err = await callUnary(client, 'enqueue', { envelopes: [envelope('', Buffer.from([1]))], ttlSeconds: 0 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(GrpcStatusError.is(err)).toBe(true);
  const status = err as GrpcStatusError;
  expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(status.code).toBe(3);
  expect(status.message).toBe('envelopes[0].message_id must not be empty');
  expect(status.metadata.get(RELAY_ERROR_CODE_METADATA)).toEqual(['MESSAGE_ID_INVALID']);

  const drain = await callUnary(client, 'drain', { deviceId: '', afterSeq: 0, limit: 0 }).catch((e: GrpcStatusError) => e);
  expect((drain as GrpcStatusError).code).toBe(3);
});
