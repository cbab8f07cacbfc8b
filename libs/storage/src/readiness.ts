import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { StorageError } from './errors';

async function withTimeout<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageError('unavailable', `${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError('unavailable', `${what} unreachable: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** Readiness probe: SELECT 1 through the pool; throws StorageError('unavailable') on failure or timeout. */
export async function pingPostgres(pool: Pool, timeoutMs = 2000): Promise<void> {
  const work = pool.query('SELECT 1');
  // If the timeout wins, the query may still fail later; that late rejection is expected.
  work.catch(() => undefined);
  await withTimeout('postgres', timeoutMs, work);
}

/** Readiness probe: PING; throws StorageError('unavailable') on failure or timeout. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  const work = redis.ping();
  work.catch(() => undefined);
  const reply = await withTimeout('redis', timeoutMs, work);
  if (reply !== 'PONG') throw new StorageError('unavailable', `redis answered PING with ${JSON.stringify(reply)}`);
}
