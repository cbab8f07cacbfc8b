import type { Redis } from 'ioredis';
import { createRedis, pingRedis, StorageError } from '../src';
import { closedPort, RecordingLogger, stackEnv, uniqueName } from './support/stack';

const prefix = `${uniqueName('storagetest')}:`;
let redis: Redis;

beforeAll(() => {
  redis = createRedis(stackEnv('COMMUCAT_REDIS_URL'), { name: 'storage-test' });
});

afterAll(async () => {
  if (!redis) return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('createRedis / pingRedis', () => {
  it('connects, names the connection and answers PING', async () => {
    await expect(pingRedis(redis)).resolves.toBeUndefined();
    expect(await redis.client('GETNAME')).toBe('storage-test');
    await redis.set(`${prefix}k`, 'v', 'EX', 60);
    expect(await redis.get(`${prefix}k`)).toBe('v');
  });

  it('fails fast when Redis is unreachable and logs the outage once instead of throwing', async () => {
    const logger = new RecordingLogger();
    const down = createRedis(`redis://127.0.0.1:${await closedPort()}`, { name: 'down', logger });
    try {
      const err = await pingRedis(down, 1000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('unavailable');
      // A plain command rejects (bounded retries) rather than waiting forever in the offline queue.
      await expect(down.get('anything')).rejects.toThrow();
      expect(logger.count('warn')).toBe(1);
    } finally {
      down.disconnect();
    }
  });
});
