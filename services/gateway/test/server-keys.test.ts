import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { NoiseStaticKey } from '@commucat/crypto';
import { SecretsServiceClient, SecretsServiceService, type NoiseKey, type NoiseKeyCatalog, type SecretsServiceServer } from '@commucat/contracts';
import { createGrpcClient, createServiceRuntime, type ServiceRuntime } from '@commucat/service-kit';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import { checkAdminToken } from '../src/rest/session-auth';
import { ServerKeys } from '../src/server-keys';

/** A secrets gRPC endpoint serving a catalogue the test edits (the real service has its own tests). */
let telemetry: Telemetry;
let runtime: ServiceRuntime;
let client: SecretsServiceClient;
let catalog: NoiseKeyCatalog = { keys: [], expired: [] };
let noiseCalls = 0;
const ca = Buffer.alloc(32, 9);

const keyOf = (version: number, key: NoiseStaticKey, times: Partial<NoiseKey> = {}): NoiseKey => ({
  version, privateKey: key.privateKey, publicKey: key.publicKey, validAfter: Date.now() - 10_000, rotatesAt: 0, expiresAt: 0, ...times,
});

beforeAll(async () => {
  telemetry = initTelemetry({ serviceName: 'server-keys-test', logLevel: 'silent' });
  runtime = createServiceRuntime({ name: 'secrets', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry });
  const handlers: SecretsServiceServer = {
    getNoiseKeys: async () => { noiseCalls += 1; return catalog; },
    getDeviceCa: async () => ({ publicKey: ca }),
    signDeviceCertificate: async () => ({ issuer: ca, signature: Buffer.alloc(64) }),
    verifyAdminToken: async ({ request }) => ({ ok: request.token === 'good', configured: true }),
    getFederationKey: async () => ({ publicKey: Buffer.alloc(32), version: 1 }),
    signFederationEvent: async () => ({ signature: Buffer.alloc(64), publicKey: Buffer.alloc(32) }),
  };
  runtime.addGrpcService(SecretsServiceService, handlers);
  const ports = await runtime.start();
  client = createGrpcClient(SecretsServiceClient, `127.0.0.1:${ports.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await runtime?.stop();
  await telemetry?.shutdown();
});

describe('ServerKeys', () => {
  test('keeps expired keys apart, notices keys lapsing between refreshes, and reloads once per burst of announcements', async () => {
    const k1 = NoiseStaticKey.generate();
    const k2 = NoiseStaticKey.generate();
    const k3 = NoiseStaticKey.generate();
    const now = Date.now();
    catalog = { keys: [keyOf(2, k2, { expiresAt: now + 60_000 }), keyOf(3, k3)], expired: [keyOf(1, k1, { expiresAt: now - 1 })] };
    const keys = new ServerKeys(client, pino({ level: 'silent' }), 3_600_000);
    await keys.refresh();
    expect(keys.active().map((k) => k.version)).toEqual([3, 2]);
    expect(keys.expired().map((k) => k.version)).toEqual([1]);
    expect(keys.expired()[0]!.key.publicKey.equals(k1.publicKey)).toBe(true);
    // Version 2 lapses before the next refresh: it leaves active() and joins expired().
    expect(keys.active(now + 61_000).map((k) => k.version)).toEqual([3]);
    expect(keys.expired(now + 61_000).map((k) => k.version)).toEqual([2, 1]);

    // A rotation announcement: concurrent announcements share one reload.
    const k4 = NoiseStaticKey.generate();
    catalog = { keys: [keyOf(4, k4), keyOf(3, k3, { expiresAt: now + 5_000 })], expired: [keyOf(2, k2, { expiresAt: now - 1 })] };
    const before = noiseCalls;
    await Promise.all([keys.refreshSoon(), keys.refreshSoon(), keys.refreshSoon()]);
    expect(noiseCalls - before).toBe(1);
    expect(keys.active().map((k) => k.version)).toEqual([4, 3]);
    // The new expiry of version 3 is taken, not the stale one.
    expect(keys.active()[1]!.expiresAt).toBe(now + 5_000);
    expect(keys.expired().map((k) => k.version)).toEqual([2]);
  });
});

describe('checkAdminToken', () => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as IncomingMessage;
  const verifier = (configured: boolean) => ({
    calls: [] as string[],
    async verifyAdminToken({ token }: { token: string }) { this.calls.push(token); return { ok: configured && token === 'good', configured }; },
  });

  test('asks secrets with the bearer token; no token is refused, an absent admin token means not configured', async () => {
    const v = verifier(true);
    expect(await checkAdminToken(req('Bearer good'), v)).toBe('ok');
    expect(await checkAdminToken(req('Bearer bad'), v)).toBe('refused');
    expect(await checkAdminToken(req(), v)).toBe('refused');
    expect(await checkAdminToken(req(`Bearer ${'x'.repeat(600)}`), v)).toBe('refused');
    expect(v.calls).toEqual(['good', 'bad', '', '']);
    expect(await checkAdminToken(req('Bearer good'), verifier(false))).toBe('not-configured');
  });
});
