import type { Pool, PoolClient } from 'pg';
import { isRetryableTransactionError, StorageError } from './errors';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** Extra attempts after a serialization failure or deadlock (default 3). */
  retries?: number;
}

const BEGIN: Record<IsolationLevel, string> = {
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};

/** Full-jitter backoff: conflicting transactions that retry in lockstep would collide again. */
function retryDelayMs(attempt: number): number {
  const ceiling = Math.min(20 * 2 ** attempt, 500);
  return 5 + Math.random() * ceiling;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` inside BEGIN … COMMIT on a dedicated pooled client.
 *
 * - Whatever `fn` throws rolls the transaction back and is rethrown unchanged.
 * - A serialization failure (40001) or deadlock (40P01), whether raised inside `fn` or by
 *   COMMIT, reruns the whole transaction up to `retries` times; `fn` must therefore be safe to
 *   run again (no side effects outside the database). When retries run out the caller gets a
 *   StorageError('serialization_failure') whose cause is the last driver error.
 * - The client is always released; if ROLLBACK itself fails the connection state is unknown,
 *   so the client is destroyed instead of returning to the pool.
 */
export async function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const retries = opts.retries ?? 3;
  const begin = BEGIN[opts.isolation ?? 'read committed'];
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(pool, begin, fn);
    } catch (err) {
      if (!isRetryableTransactionError(err)) throw err;
      if (attempt >= retries) {
        throw new StorageError('serialization_failure', `transaction still conflicting after ${retries + 1} attempts`, { cause: err });
      }
      await sleep(retryDelayMs(attempt));
    }
  }
}

async function runOnce<T>(pool: Pool, begin: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let inTransaction = false;
  try {
    await client.query(begin);
    inTransaction = true;
    const result = await fn(client);
    await client.query('COMMIT');
    inTransaction = false;
    client.release();
    return result;
  } catch (err) {
    if (!inTransaction) {
      // BEGIN or COMMIT failed: a failed COMMIT already ended the transaction on the server;
      // a failed BEGIN means the connection is suspect. Either way don't reuse it blindly.
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackErr) {
      client.release(rollbackErr instanceof Error ? rollbackErr : true);
    }
    throw err;
  }
}
