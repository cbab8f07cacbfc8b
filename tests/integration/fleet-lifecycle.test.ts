import { fetchServerInfo } from '@commucat/client';
import { createRedis, type Redis } from '@commucat/storage';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { stackEnv } from '../support/stack-env';

jest.setTimeout(90_000);
let fleet: TestFleet;
let redis: Redis;
beforeAll(async () => {
  fleet = await TestFleet.start({ gateways: 2 });
  redis = createRedis(stackEnv().redisUrl);
});
afterAll(async () => {
  await redis?.quit();
  await fleet?.stop();
});

describe('fleet lifecycle', () => {
  test('two gateway processes each serve handshakes, and presence records which one holds the device', async () => {
    const a = newIdentity('gw-a');
    const b = newIdentity('gw-b');
    const onFirst = await connectTo(fleet, a, { gateway: 0 });
    const onSecond = await connectTo(fleet, b, { gateway: 1 });
    const routeA = JSON.parse((await redis.get(`route:${a.deviceId}`))!);
    const routeB = JSON.parse((await redis.get(`route:${b.deviceId}`))!);
    expect(routeA.gatewayId).toMatch(/^gw-0-/);
    expect(routeB.gatewayId).toMatch(/^gw-1-/);
    await onFirst.close();
    await onSecond.close();
  });

  test('restarting secrets and directory keeps the keys, the CA and the devices', async () => {
    const before = await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert });
    const identity = newIdentity('survivor');
    const first = await connectTo(fleet, identity);
    const userId = first.ack.user_id;
    await first.close();

    expect(await fleet.stopProcess('directory')).toBe(0); // graceful SIGTERM exits 0
    await fleet.restart('secrets');
    await fleet.startService('directory');
    await fleet.restart('gateway-0');

    const after = await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert });
    expect(after.noise_public).toBe(before.noise_public);
    expect(after.device_ca_public).toBe(before.device_ca_public);
    const again = await connectTo(fleet, identity);
    expect(again.ack.user_id).toBe(userId);
    expect(again.ack.device_ca_public).toBe(before.device_ca_public);
    await again.close();
  });

  test('a gateway that loses the directory answers storage failure and recovers when it returns', async () => {
    await fleet.stopProcess('directory');
    const err = await connectTo(fleet, newIdentity('nodir')).then(() => undefined, (e: { properties?: unknown }) => e);
    expect(err?.properties).toEqual({ detail: 'storage failure', error: 'handshake' });
    await fleet.startService('directory');
    const conn = await connectTo(fleet, newIdentity('dir-back'));
    expect(conn.ack.handshake).toBe('ok');
    await conn.close();
  });

  test('SIGTERM on a gateway ends its streams cleanly and removes its routes', async () => {
    const identity = newIdentity('drain');
    const conn = await connectTo(fleet, identity, { gateway: 1 });
    expect(await redis.get(`route:${identity.deviceId}`)).not.toBeNull();
    expect(await fleet.stopProcess('gateway-1')).toBe(0);
    await expect(conn.closed).resolves.toBeDefined();
    expect(await redis.get(`route:${identity.deviceId}`)).toBeNull();
  });
});

describe('presence TTL', () => {
  test('a connected device stays online past the TTL (the gateway refreshes it) and lapses once gone', async () => {
    const short = await TestFleet.start({ env: { COMMUCAT_PRESENCE_TTL: '2' } });
    const r = createRedis(stackEnv().redisUrl);
    try {
      const identity = newIdentity('ttl');
      const conn = await connectTo(short, identity);
      await new Promise((resolve) => setTimeout(resolve, 4500)); // more than two TTLs
      expect(JSON.parse((await r.get(`route:${identity.deviceId}`))!)).toMatchObject({ deviceId: identity.deviceId });
      expect(await r.pttl(`route:${identity.deviceId}`)).toBeGreaterThan(0);
      // Killed without a goodbye, the gateway cannot remove the route: the TTL does.
      await short.stopProcess('gateway-0', 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await r.get(`route:${identity.deviceId}`)).toBeNull();
      await conn.closed;
    } finally {
      await r.quit();
      await short.stop();
    }
  });
});
