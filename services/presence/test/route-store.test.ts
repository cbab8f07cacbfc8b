import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '@commucat/storage';
import { stackEnv } from '../../../tests/support/stack-env';
import { RouteStore, type Route } from '../src/route-store';

let redis: Redis;
beforeAll(() => { redis = createRedis(stackEnv().redisUrl); });
afterAll(async () => { await redis.quit(); });

const user = { id: 'u1', user_id: 'u1', handle: 'alice', display_name: null, avatar_url: null };
function route(connectionId: string, deviceId = `dev-${randomBytes(6).toString('hex')}`): Route {
  return { deviceId, userId: 'u1', gatewayId: 'gw-a', connectionId, connectedAt: Date.now(), user };
}

describe('RouteStore', () => {
  test('register writes the route and the reference presence shape, both with the TTL', async () => {
    const store = new RouteStore(redis, 30_000);
    const r = route('c1');
    const expiresAt = await store.register(r);
    expect(await store.lookup([r.deviceId, 'nobody'])).toEqual([r]);
    const presence = await store.presenceOf(r.deviceId);
    expect(presence).toEqual({ entity: r.deviceId, state: 'online', expires_at: new Date(expiresAt).toISOString(), user });
    const ttl = await redis.pttl(`route:${r.deviceId}`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  test('routes expire unless refreshed; refresh only touches the owning connection', async () => {
    const store = new RouteStore(redis, 1500);
    const kept = route('c1');
    const lapsed = route('c2');
    await store.register(kept);
    await store.register(lapsed);
    await new Promise((r) => setTimeout(r, 900));
    expect(await store.refresh([{ deviceId: kept.deviceId, connectionId: 'c1' }, { deviceId: lapsed.deviceId, connectionId: 'stale' }]))
      .toEqual([{ deviceId: lapsed.deviceId, connectionId: 'stale' }]);
    await new Promise((r) => setTimeout(r, 900));
    expect((await store.lookup([kept.deviceId, lapsed.deviceId])).map((x) => x.deviceId)).toEqual([kept.deviceId]);
  });

  test('an old connection cannot remove the route of a newer one; the owner leaves an offline record', async () => {
    const store = new RouteStore(redis, 30_000);
    const old = route('old');
    await store.register(old);
    const newer = { ...old, connectionId: 'new', gatewayId: 'gw-b' };
    await store.register(newer);
    expect(await store.remove(old, 'old')).toBe(false);
    expect(await store.lookup([old.deviceId])).toEqual([newer]);
    expect(await store.remove(newer, 'new')).toBe(true);
    expect(await store.lookup([old.deviceId])).toEqual([]);
    expect(await store.presenceOf(old.deviceId)).toMatchObject({ entity: old.deviceId, state: 'offline', user });
  });
});
