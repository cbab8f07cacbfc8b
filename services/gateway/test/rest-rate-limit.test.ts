import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '@commucat/storage';
import { SharedRateLimiter } from '../src/rest/shared-rate-limiter';

const redisUrl = process.env.COMMUCAT_REDIS_URL;
if (!redisUrl) throw new Error('COMMUCAT_REDIS_URL is not set: eval "$(scripts/stack.sh env)" first');

describe('SharedRateLimiter (real Redis)', () => {
  let a: Redis;
  let b: Redis;
  const prefix = `test:${randomBytes(6).toString('hex')}:rl`;
  beforeAll(() => { a = createRedis(redisUrl); b = createRedis(redisUrl); });
  afterAll(async () => {
    const keys = await a.keys(`${prefix}:*`);
    if (keys.length > 0) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  const limiter = (redis: Redis, p = prefix, penaltyMs = 5000) => new SharedRateLimiter(redis, {
    prefix: p,
    limits: { http: { burst: 3, windowMs: 60_000, penaltyMs }, session: { burst: 2, windowMs: 60_000, penaltyMs: 0 }, pairing: { burst: 1, windowMs: 60_000, penaltyMs: 0 } },
  });

  test('two limiters (two gateways) share one budget per key, then a penalty with Retry-After', async () => {
    const gw1 = limiter(a);
    const gw2 = limiter(b);
    const ip = `198.51.100.${Math.floor(Math.random() * 200)}`;
    expect(await gw1.check('http', ip)).toEqual({ allowed: true });
    expect(await gw2.check('http', ip)).toEqual({ allowed: true });
    expect(await gw1.check('http', ip)).toEqual({ allowed: true });
    expect(await gw2.check('http', ip)).toEqual({ allowed: false, retryAfterSeconds: 5 });
    // Blocked on both replicas while the penalty runs, even for the replica that had room.
    expect(await gw1.check('http', ip)).toMatchObject({ allowed: false });
    expect(await a.pttl(gw1.key('http', ip) + ':penalty')).toBeGreaterThan(3000);
    // Another client is unaffected.
    expect(await gw1.check('http', `${ip}1`)).toEqual({ allowed: true });
  });

  test('without a penalty the wait is what remains of the window', async () => {
    const gw = limiter(a);
    expect(await gw.check('session', 'tok')).toEqual({ allowed: true });
    expect(await gw.check('session', 'tok')).toEqual({ allowed: true });
    const refused = await gw.check('session', 'tok');
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(await a.exists(gw.key('session', 'tok') + ':penalty')).toBe(0);
  });

  test('scopes and prefixes are independent; hit logs expire with their window', async () => {
    const gw = limiter(a);
    expect(await gw.check('pairing', 'ip')).toEqual({ allowed: true });
    expect((await gw.check('pairing', 'ip')).allowed).toBe(false);
    expect(await gw.check('http', 'ip')).toEqual({ allowed: true });
    expect(await limiter(a, `${prefix}:other`).check('pairing', 'ip')).toEqual({ allowed: true });
    const ttl = await a.pttl(gw.key('pairing', 'ip'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  test('a Redis outage lets requests through and reports the error', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { commandTimeoutMs: 300 });
    const errors: unknown[] = [];
    const gw = new SharedRateLimiter(dead, { prefix, limits: { http: { burst: 1, windowMs: 1000, penaltyMs: 0 }, session: { burst: 1, windowMs: 1000, penaltyMs: 0 }, pairing: { burst: 1, windowMs: 1000, penaltyMs: 0 } }, onError: (e) => errors.push(e) });
    expect(await gw.check('http', 'x')).toEqual({ allowed: true });
    expect(errors).toHaveLength(1);
    dead.disconnect();
  });
});
