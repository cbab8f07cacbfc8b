import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { credentials } from '@grpc/grpc-js';
import { DirectoryServiceClient } from '@commucat/contracts';
import { createRedis, type Redis } from '@commucat/storage';
import { RestApi } from '../src/rest/rest-api';
import { restRoutes } from '../src/rest/rest-routes';
import type { RestDeps } from '../src/rest/rest-deps';
import { SecurityStats } from '../src/rest/security-stats';
import { SharedRateLimiter } from '../src/rest/shared-rate-limiter';
import { GrpcStatusError } from '@commucat/service-kit';
import { status } from '@grpc/grpc-js';

const redisUrl = process.env.COMMUCAT_REDIS_URL;
if (!redisUrl) throw new Error('COMMUCAT_REDIS_URL is not set: eval "$(scripts/stack.sh env)" first');

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/**
 * The REST dispatcher served over cleartext HTTP/1.1 and h2c in-process (the TLS edge itself is
 * covered by the integration tests). Sessions are decided by a validator that knows one token;
 * every route that reaches directory is out of scope here.
 */
describe('RestApi dispatch', () => {
  let h1: http.Server;
  let h2: http2.Http2Server;
  let redis: Redis;
  let api: RestApi;
  let doc: any;
  const prefix = `test:${randomBytes(6).toString('hex')}:rl`;
  const registry = new Registry();
  const handshakes = new Counter({ name: 'hs_total', help: 'x', labelNames: ['result'], registers: [registry] });

  beforeAll(async () => {
    redis = createRedis(redisUrl);
    const deps: RestDeps = {
      directory: new DirectoryServiceClient('127.0.0.1:1', credentials.createInsecure()),
      domain: 'example.org', prologue: Buffer.from('commucat'), keepaliveSeconds: 60, pairingTtlSeconds: 300,
      adminToken: 'admin-secret', isReady: () => true,
      serverInfo: () => ({ domain: 'example.org' }),
      metrics: { contentType: registry.contentType, text: () => registry.metrics() },
      security: new SecurityStats(handshakes),
      logger: pino({ level: 'silent' }),
    };
    api = new RestApi({
      routes: restRoutes(deps),
      sessions: {
        validateSession: async ({ token }) => {
          if (token === 'good-token') return { userId: 'u1', deviceId: 'd1', expiresAt: Date.now() + 60_000 };
          throw new GrpcStatusError(status.UNAUTHENTICATED, 'session not found or expired');
        },
      },
      limiter: new SharedRateLimiter(redis, {
        prefix,
        limits: { http: { burst: 10_000, windowMs: 1000, penaltyMs: 0 }, session: { burst: 10_000, windowMs: 1000, penaltyMs: 0 }, pairing: { burst: 2, windowMs: 60_000, penaltyMs: 0 } },
      }),
      version: '9.9.9', logger: pino({ level: 'silent' }),
    });
    h1 = http.createServer((req, res) => api.handle(req, res));
    h2 = http2.createServer((req, res) => api.handle(req, res));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    doc = JSON.parse((await h1Call('GET', '/openapi.json')).text);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    h1.close();
    h2.close();
  });

  function h1Call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: (h1.address() as AddressInfo).port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  function h2Call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
      session.on('error', reject);
      const stream = session.request({ ':method': method, ':path': path, ...headers });
      const chunks: Buffer[] = [];
      let head: http2.IncomingHttpHeaders = {};
      stream.on('response', (h) => { head = h; });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => { session.close(); resolve({ status: Number(head[':status']), headers: head as Reply['headers'], text: Buffer.concat(chunks).toString('utf8') }); });
      stream.on('error', reject);
      stream.end(body);
    });
  }

  const ajv = () => {
    const a = new Ajv2020({ strict: false });
    a.addSchema({ ...doc, $id: 'openapi' });
    return a;
  };
  const component = (name: string) => ({ $ref: `openapi#/components/schemas/${name}` });

  test.each([['HTTP/1.1', () => h1Call], ['HTTP/2', () => h2Call]] as const)('%s: unknown path → plain 404, known path wrong method → 405 with Allow', async (_n, call) => {
    const missing = await call()('GET', '/api/nothing');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ type: 'about:blank', title: 'Not Found', status: 404 });
    const wrong = await call()('DELETE', '/api/devices');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect(wrong.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(wrong.text).type).toBe('https://commucat.dev/problems/method-not-allowed');
  });

  test.each([['HTTP/1.1', () => h1Call], ['HTTP/2', () => h2Call]] as const)('%s: session routes need a valid bearer token', async (_n, call) => {
    const none = await call()('GET', '/api/devices');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toEqual({ type: 'https://commucat.dev/problems/missing-authorization', title: 'Unauthorized', status: 401, detail: 'missing Authorization header' });
    const bad = await call()('GET', '/api/devices', undefined, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.text)).toMatchObject({ type: 'https://commucat.dev/problems/invalid-session', detail: 'session not found or expired' });
  });

  test.each([['HTTP/1.1', () => h1Call], ['HTTP/2', () => h2Call]] as const)('%s: body problems: bad JSON, wrong type, unknown field, missing body, too large', async (_n, call) => {
    const auth = { authorization: 'bearer good-token' };
    const cases: Array<[string | Buffer, number, string]> = [
      ['{"device_id":', 400, 'invalid-json'],
      ['{"device_id":7}', 400, 'invalid-field'],
      ['{"device_id":"d2","x":1}', 400, 'unknown-field'],
      ['', 400, 'invalid-json'],
      [JSON.stringify({ device_id: 'x'.repeat(70_000) }), 413, 'body-too-large'],
    ];
    for (const [body, statusCode, code] of cases) {
      const res = await call()('POST', '/api/devices/revoke', body, auth);
      expect({ status: res.status, type: JSON.parse(res.text).type }).toEqual({ status: statusCode, type: `https://commucat.dev/problems/${code}` });
      expect(ajv().validate(component('Problem'), JSON.parse(res.text))).toBe(true);
    }
  });

  test('p2p assist: needs a session, always has pq (M2), echoes planned paths and matches the document', async () => {
    expect((await h2Call('POST', '/api/p2p/assist', '{}')).status).toBe(401);
    const legacy = JSON.stringify({
      peer_hint: null, paths: [{ address: '10.1.2.3', id: 'hint-1', port: 3478, server_name: 'x', priority: 1, reality_fingerprint: null, reality_pem: null }],
      prefer_reality: null, fec: { mtu: 1200, repair_overhead: 0.18 }, min_paths: 1,
    });
    const res = await h2Call('POST', '/api/p2p/assist', legacy, { authorization: 'Bearer good-token' });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    const validate = ajv().compile(component('P2pAssist'));
    expect(validate(body)).toBe(true);
    expect(body.pq).toEqual({ identity_public_hex: '', signed_prekey_public_hex: '', kem_public_hex: '', signature_public_hex: '' });
    expect(body.transports.map((t: { path_id: string }) => t.path_id)).toEqual(['hint-1']);
    expect(body.multipath).toMatchObject({ fec_mtu: 1200, fec_overhead: 0.18, primary_path: 'hint-1', sample_segments: { 'hint-1': { total: 4, repair: 1 } } });
    expect(body.ice.username_fragment).toMatch(/^[0-9a-f]{16}$/);
    const again = JSON.parse((await h1Call('GET', '/api/p2p/assist', undefined, { authorization: 'good-token' })).text);
    expect(again.ice.password).not.toBe(body.ice.password);
    expect(again.noise.device_seed_hex).not.toBe(body.noise.device_seed_hex);
    expect(again.transports.map((t: { path_id: string }) => t.path_id)).toEqual(['primary', 'backup']);
  });

  test('admin routes: 401 without the token, 200 with it; the comparison is exact', async () => {
    for (const path of ['/metrics', '/api/security-stats']) {
      expect((await h1Call('GET', path)).status).toBe(401);
      expect((await h1Call('GET', path, undefined, { authorization: 'Bearer admin-secreT' })).status).toBe(401);
      expect((await h1Call('GET', path, undefined, { authorization: 'Bearer admin-secret' })).status).toBe(200);
    }
    handshakes.inc({ result: 'ok' }, 2);
    handshakes.inc({ result: 'invalid' });
    const stats = JSON.parse((await h2Call('GET', '/api/security-stats', undefined, { authorization: 'admin-secret' })).text);
    expect(ajv().validate(component('SecuritySnapshot'), stats)).toBe(true);
    expect(stats.noise_handshakes).toBe(2);
  });

  test('pair claim is limited per IP on top of the HTTP limit, with Retry-After', async () => {
    const body = JSON.stringify({ pair_code: 'ABCD', bogus: 1 });
    expect((await h1Call('POST', '/api/pair/claim', body)).status).toBe(400);
    expect((await h1Call('POST', '/api/pairing/claim', body)).status).toBe(400);
    const limited = await h1Call('POST', '/api/pair/claim', body);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.text)).toMatchObject({ type: 'https://commucat.dev/problems/rate-limited', title: 'Too Many Requests', status: 429 });
  });

  test('responses carry no-store and nosniff; probes answer', async () => {
    const health = await h1Call('GET', '/healthz');
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['cache-control']).toBe('no-store');
    expect(JSON.parse((await h2Call('GET', '/readyz')).text)).toEqual({ status: 'ready' });
  });

  test('the OpenAPI document lists every served route with its schemas, and the schemas compile', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('9.9.9');
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    for (const route of api.routes) expect(ops).toContain(`${route.spec.method} ${route.path}`);
    expect(ops).toHaveLength(api.routes.length);
    const a = ajv();
    for (const name of Object.keys(doc.components.schemas)) expect(() => a.compile(component(name))).not.toThrow();
    expect(doc.paths['/api/friends'].put.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PutFriendsRequest' });
    // The document's request schema agrees with the validator about the real client's body.
    expect(a.validate(component('PutFriendsRequest'), { friends: [{ user_id: 'u', handle: null, alias: null }] })).toBe(true);
    expect(a.validate(component('PutFriendsRequest'), { friends: [{ user_id: 'u', nick: 'x' }] })).toBe(false);
  });
});
