import * as http from 'node:http';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { credentials, status } from '@grpc/grpc-js';
import { DirectoryServiceClient } from '@commucat/contracts';
import { GrpcStatusError } from '@commucat/service-kit';
import { LocalRateLimiter } from '../src/rest/local-rate-limiter';
import { RestApi } from '../src/rest/rest-api';
import type { DeviceRotationSettings, RestDeps } from '../src/rest/rest-deps';
import { restRoutes } from '../src/rest/rest-routes';
import { SecurityStats } from '../src/rest/security-stats';
import { jsonCall, type JsonReply } from './support/json-call';


const roomy = { burst: 10_000, windowMs: 1000, penaltyMs: 0 };

/**
 * POST /api/device/csr at the edge: existence by config, session auth and request validation,
 * all decided before directory is asked (directory here is an address nobody listens on; the
 * rotation itself is covered by the directory unit tests and tests/integration/device-rotation).
 */
async function serve(deviceRotation: DeviceRotationSettings | undefined): Promise<{ call: (method: string, path: string, body?: unknown, token?: string) => Promise<JsonReply>; close: () => void }> {
  const registry = new Registry();
  const deps: RestDeps = {
    directory: new DirectoryServiceClient('127.0.0.1:1', credentials.createInsecure()),
    domain: 'example.org', prologue: Buffer.from('commucat'), keepaliveSeconds: 60, pairingTtlSeconds: 300,
    isReady: () => true, serverInfo: () => ({}),
    metrics: { contentType: registry.contentType, text: () => registry.metrics() },
    security: new SecurityStats(new Counter({ name: 'hs_total', help: 'x', labelNames: ['result'], registers: [registry] })),
    logger: pino({ level: 'silent' }),
    ...(deviceRotation ? { deviceRotation } : {}),
  };
  const limiter = new LocalRateLimiter({ http: roomy, session: roomy, pairing: roomy });
  const api = new RestApi({
    routes: restRoutes(deps),
    sessions: {
      validateSession: async ({ token }) => {
        if (token === 'good-token') return { userId: 'u1', deviceId: 'd1', expiresAt: Date.now() + 60_000 };
        throw new GrpcStatusError(status.UNAUTHENTICATED, 'session not found or expired');
      },
    },
    limiter, version: '0.0.0', logger: pino({ level: 'silent' }),
  });
  const server = http.createServer((req, res) => api.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const call = (method: string, path: string, body?: unknown, token?: string): Promise<JsonReply> => jsonCall(server, method, path, { token, body });
  return { call, close: () => { server.close(); limiter.close(); } };
}

const valid = {
  public_key: 'ab'.repeat(32),
  signature: 'cd'.repeat(64),
  expires_at: '2026-01-01T00:00:00Z',
};

describe('POST /api/device/csr when rotation.device.enabled is false', () => {
  test('is a plain 404 before authentication, and /openapi.json does not list it', async () => {
    const { call, close } = await serve({ enabled: false, minIntervalSeconds: 86400, proofTtlSeconds: 600 });
    try {
      const res = await call('POST', '/api/device/csr', valid);
      expect(res).toEqual({ status: 404, json: { type: 'about:blank', title: 'Not Found', status: 404 } });
      expect((await call('POST', '/api/device/csr', valid, 'good-token')).status).toBe(404);
      expect((await call('GET', '/openapi.json')).json.paths['/api/device/csr']).toBeUndefined();
    } finally {
      close();
    }
  });
});

describe('POST /api/device/csr when enabled', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => { server = await serve({ enabled: true, minIntervalSeconds: 0, proofTtlSeconds: 600 }); });
  afterAll(() => server.close());

  test('needs a session', async () => {
    expect((await server.call('POST', '/api/device/csr', valid)).json.type).toBe('https://commucat.dev/problems/missing-authorization');
    expect((await server.call('POST', '/api/device/csr', valid, 'stale')).json.type).toBe('https://commucat.dev/problems/invalid-session');
  });

  test.each([
    ['empty body', '', 'invalid-json', 'a JSON body is required'],
    ['short public_key', { ...valid, public_key: 'ab'.repeat(31) }, 'invalid-field', 'public_key: 64 hex characters'],
    ['non-hex signature', { ...valid, signature: 'zz'.repeat(64) }, 'invalid-field', 'signature: 128 hex characters'],
    ['expires_at not RFC 3339', { ...valid, expires_at: 'tomorrow' }, 'invalid-field', 'expires_at: '],
    ['expires_at on a day that does not exist', { ...valid, expires_at: '2026-13-45T00:00:00Z' }, 'invalid-field', 'expires_at: invalid RFC 3339 time'],
    ['a 7-byte nonce', { ...valid, nonce: 'ab'.repeat(7) }, 'invalid-field', 'nonce: hex of at least 8 bytes'],
    ['an odd-length nonce', { ...valid, nonce: 'abc'.repeat(7) }, 'invalid-field', 'nonce: hex of at least 8 bytes'],
    ['an unknown field', { ...valid, csr: 'x' }, 'unknown-field', 'unknown field: csr'],
  ])('refuses %s with 400 naming the field', async (_name, body, code, detail) => {
    const res = await server.call('POST', '/api/device/csr', body, 'good-token');
    expect(res.status).toBe(400);
    expect(res.json.type).toBe(`https://commucat.dev/problems/${code}`);
    expect(res.json.detail.startsWith(detail)).toBe(true);
  });

  test('/openapi.json documents the request and response', async () => {
    const doc = (await server.call('GET', '/openapi.json')).json;
    const op = doc.paths['/api/device/csr'].post;
    expect(op.operationId).toBe('rotateDeviceKey');
    expect(op.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DeviceRotationRequest' });
    expect(op.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DeviceRotation' });
    expect(Object.keys(doc.components.schemas.DeviceRotation.properties).sort()).toEqual([
      'applied_at', 'certificate', 'device_id', 'event_id', 'old_public_key', 'proof_expires_at', 'public_key', 'rotation_id', 'user_id',
    ]);
    expect(doc.components.schemas.DeviceRotationRequest.required.sort()).toEqual(['expires_at', 'public_key', 'signature']);
  });
});
