import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { PresenceServiceClient, PresenceServiceService } from '@commucat/contracts';
import { callUnary, createGrpcClient, createServiceRuntime, GrpcStatusError, type ServiceRuntime } from '@commucat/service-kit';
import { createRedis, type Redis } from '@commucat/storage';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import { stackEnv } from '../../../tests/support/stack-env';
import { presenceHandlers } from '../src/presence-service';
import { RouteStore, type Route } from '../src/route-store';

const TTL_MS = 30_000;
let redis: Redis;
let telemetry: Telemetry;
let runtime: ServiceRuntime;
let client: PresenceServiceClient;
let store: RouteStore;
const changes: Array<{ deviceId: string; connectionId: string; state: string }> = [];

beforeAll(async () => {
  redis = createRedis(stackEnv().redisUrl);
  telemetry = initTelemetry({ serviceName: 'presence-test', logLevel: 'silent' });
  runtime = createServiceRuntime({ name: 'presence', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry });
  store = new RouteStore(redis, TTL_MS);
  runtime.addGrpcService(PresenceServiceService, presenceHandlers(store, {
    changed: (route, state) => { changes.push({ deviceId: route.deviceId, connectionId: route.connectionId, state }); },
  }));
  const ports = await runtime.start();
  client = createGrpcClient(PresenceServiceClient, `127.0.0.1:${ports.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await runtime?.stop();
  await telemetry?.shutdown();
  await redis?.quit();
});

const alice = { id: 'u1', user_id: 'u1', handle: 'alice', display_name: 'Alice', avatar_url: null };

async function online(connectionId: string): Promise<Route> {
  const route: Route = { deviceId: `dev-${randomBytes(6).toString('hex')}`, userId: 'u1', gatewayId: 'gw-a', connectionId, connectedAt: Date.now(), user: alice };
  await store.register(route);
  return route;
}

async function statusOf(call: Promise<unknown>): Promise<grpc.status | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    if (err instanceof GrpcStatusError) return err.code;
    throw err;
  }
}

describe('SetState', () => {
  test('the route owner sets its state: reference record shape, presence TTL, snapshot and event', async () => {
    const route = await online('c1');
    // Let the register TTL run down a little, so the refresh below is visible.
    await redis.pexpire(`route:${route.deviceId}`, 5_000);
    await redis.pexpire(`presence:${route.deviceId}`, 5_000);
    const before = Date.now();
    const snapshot = await callUnary(client, 'setState', { deviceId: route.deviceId, connectionId: 'c1', state: 'away' });

    expect(snapshot).toMatchObject({ entity: route.deviceId, state: 'away', user: { userId: 'u1', handle: 'alice', displayName: 'Alice' } });
    expect(snapshot.user?.avatarUrl).toBeUndefined();
    const expiresAt = Date.parse(snapshot.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + TTL_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + TTL_MS);

    const raw = await redis.get(`presence:${route.deviceId}`);
    expect(Object.keys(JSON.parse(raw!)).sort()).toEqual(['entity', 'expires_at', 'state', 'user']);
    expect(JSON.parse(raw!)).toEqual({ entity: route.deviceId, state: 'away', expires_at: snapshot.expiresAt, user: alice });
    for (const key of [`presence:${route.deviceId}`, `route:${route.deviceId}`]) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(TTL_MS - 5_000);
      expect(ttl).toBeLessThanOrEqual(TTL_MS);
    }
    expect(changes).toContainEqual({ deviceId: route.deviceId, connectionId: 'c1', state: 'away' });
    expect(await callUnary(client, 'getPresence', { deviceId: route.deviceId })).toEqual(snapshot);
  });

  test('another connection of the device, or a device without a route, gets FAILED_PRECONDITION and changes nothing', async () => {
    const route = await online('current');
    const recordBefore = await redis.get(`presence:${route.deviceId}`);
    const eventsBefore = changes.length;
    expect(await statusOf(callUnary(client, 'setState', { deviceId: route.deviceId, connectionId: 'stale', state: 'away' })))
      .toBe(grpc.status.FAILED_PRECONDITION);
    expect(await redis.get(`presence:${route.deviceId}`)).toBe(recordBefore);

    const nobody = `dev-${randomBytes(6).toString('hex')}`;
    expect(await statusOf(callUnary(client, 'setState', { deviceId: nobody, connectionId: 'c1', state: 'away' })))
      .toBe(grpc.status.FAILED_PRECONDITION);
    expect(await redis.exists(`presence:${nobody}`)).toBe(0);
    expect(changes.length).toBe(eventsBefore);
  });

  test('the state must be 1 to 64 characters (counted as characters, not bytes)', async () => {
    const route = await online('c1');
    const set = (state: string) => statusOf(callUnary(client, 'setState', { deviceId: route.deviceId, connectionId: 'c1', state }));
    expect(await set('')).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await set('x'.repeat(65))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await set('é'.repeat(64))).toBe('ok');
    expect(await set('x'.repeat(64))).toBe('ok');
    expect((await store.presenceOf(route.deviceId))?.state).toBe('x'.repeat(64));
    expect(await statusOf(callUnary(client, 'setState', { deviceId: '', connectionId: 'c1', state: 'away' }))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await statusOf(callUnary(client, 'setState', { deviceId: route.deviceId, connectionId: '', state: 'away' }))).toBe(grpc.status.INVALID_ARGUMENT);
  });

  test('after a takeover only the new connection may set the state', async () => {
    const route = await online('old');
    await store.register({ ...route, connectionId: 'new', gatewayId: 'gw-b' });
    expect(await store.setState(route.deviceId, 'old', 'busy')).toBeUndefined();
    expect((await store.presenceOf(route.deviceId))?.state).toBe('online');
    const written = await store.setState(route.deviceId, 'new', 'busy');
    expect(written?.route).toMatchObject({ connectionId: 'new', gatewayId: 'gw-b' });
    expect((await store.presenceOf(route.deviceId))?.state).toBe('busy');
  });
});
