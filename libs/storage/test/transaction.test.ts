import type { Pool } from 'pg';
import { isUniqueViolation, StorageError, toStorageError, withTransaction } from '../src';
import { TestSchema } from './support/stack';

let schema: TestSchema;
let pool: Pool;
let observer: Pool; // a second pool: sees only what was committed

beforeAll(async () => {
  schema = await TestSchema.create('tx');
  pool = schema.pool({ max: 4 });
  observer = schema.pool({ max: 2 });
  await pool.query('CREATE TABLE item (id text PRIMARY KEY, n integer NOT NULL DEFAULT 0)');
});

afterAll(async () => {
  await schema?.cleanup();
});

beforeEach(async () => {
  await pool.query('TRUNCATE item');
});

async function observedIds(): Promise<string[]> {
  const { rows } = await observer.query<{ id: string }>('SELECT id FROM item ORDER BY id');
  return rows.map((r) => r.id);
}

function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

describe('withTransaction', () => {
  it('commits: rows are visible from another connection afterwards, not before', async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO item (id) VALUES ('a'), ('b')");
      expect(await observedIds()).toEqual([]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await observedIds()).toEqual(['a', 'b']);
  });

  it('rolls back when the callback throws and rethrows the same error', async () => {
    const boom = new Error('boom');
    await expect(
      withTransaction(pool, async (client) => {
        await client.query("INSERT INTO item (id) VALUES ('x')");
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await observedIds()).toEqual([]);
  });

  it('rolls back after a failed statement and reports unique violations recognisably', async () => {
    await pool.query("INSERT INTO item (id) VALUES ('dup')");
    const err = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO item (id) VALUES ('fresh')");
      await client.query("INSERT INTO item (id) VALUES ('dup')");
    }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    const wrapped = toStorageError(err);
    expect(wrapped).toBeInstanceOf(StorageError);
    expect((wrapped as StorageError).code).toBe('unique_violation');
    expect(await observedIds()).toEqual(['dup']);
  });

  it('returns clients to the pool: more failing transactions than connections still complete', async () => {
    const small = schema.pool({ max: 2 });
    for (let i = 0; i < 6; i++) {
      await expect(withTransaction(small, async () => Promise.reject(new Error(`fail ${i}`)))).rejects.toThrow(`fail ${i}`);
    }
    await withTransaction(small, async (client) => {
      await client.query("INSERT INTO item (id) VALUES ('after')");
    });
    expect(small.totalCount).toBeLessThanOrEqual(2);
    expect(small.waitingCount).toBe(0);
    expect(await observedIds()).toEqual(['after']);
  });

  it('destroys the client when ROLLBACK itself fails (connection killed inside the transaction)', async () => {
    const single = schema.pool({ max: 1 });
    let killedPid = 0;
    const err = await withTransaction(single, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      killedPid = rows[0]!.pid;
      await client.query("INSERT INTO item (id) VALUES ('lost')");
      await observer.query('SELECT pg_terminate_backend($1, 5000)', [killedPid]);
      throw new Error('after kill');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('after kill');
    // The one connection of this pool was dead; the next transaction must get a fresh one.
    const pid = await withTransaction(single, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return rows[0]!.pid;
    });
    expect(pid).not.toBe(killedPid);
    expect(await observedIds()).toEqual([]);
  });

  it('retries a serializable transaction that lost a conflict, so both increments land', async () => {
    await pool.query("INSERT INTO item (id, n) VALUES ('counter', 0)");
    const bothRead = barrier(2);
    let attempts = 0;
    const increment = () =>
      withTransaction(
        pool,
        async (client) => {
          attempts += 1;
          const firstAttempt = attempts <= 2;
          const { rows } = await client.query<{ n: number }>("SELECT n FROM item WHERE id = 'counter'");
          // Both first attempts read before either writes: a guaranteed conflict.
          if (firstAttempt) await bothRead();
          await client.query("UPDATE item SET n = $1 WHERE id = 'counter'", [rows[0]!.n + 1]);
        },
        { isolation: 'serializable' },
      );
    await Promise.all([increment(), increment()]);
    const { rows } = await observer.query<{ n: number }>("SELECT n FROM item WHERE id = 'counter'");
    expect(rows[0]!.n).toBe(2);
    expect(attempts).toBeGreaterThanOrEqual(3);
  });

  it('gives up with StorageError serialization_failure when retries are exhausted', async () => {
    await pool.query("INSERT INTO item (id, n) VALUES ('counter', 0)");
    const bothRead = barrier(2);
    const increment = () =>
      withTransaction(
        pool,
        async (client) => {
          const { rows } = await client.query<{ n: number }>("SELECT n FROM item WHERE id = 'counter'");
          await bothRead();
          await client.query("UPDATE item SET n = $1 WHERE id = 'counter'", [rows[0]!.n + 1]);
        },
        { isolation: 'repeatable read', retries: 0 },
      );
    const results = await Promise.allSettled([increment(), increment()]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.reason).toBeInstanceOf(StorageError);
    expect(failures[0]!.reason.code).toBe('serialization_failure');
    expect((failures[0]!.reason.cause as { code?: string }).code).toBe('40001');
    const { rows } = await observer.query<{ n: number }>("SELECT n FROM item WHERE id = 'counter'");
    expect(rows[0]!.n).toBe(1);
  });

  it('retries after a deadlock so both transactions end up applied', async () => {
    await pool.query("INSERT INTO item (id, n) VALUES ('p', 0), ('q', 0)");
    const bothLocked = barrier(2);
    let attempts = 0;
    const lockInOrder = (first: string, second: string) =>
      withTransaction(pool, async (client) => {
        attempts += 1;
        const firstAttempt = attempts <= 2;
        await client.query('UPDATE item SET n = n + 1 WHERE id = $1', [first]);
        if (firstAttempt) await bothLocked();
        await client.query('UPDATE item SET n = n + 1 WHERE id = $1', [second]);
      });
    await Promise.all([lockInOrder('p', 'q'), lockInOrder('q', 'p')]);
    const { rows } = await observer.query<{ id: string; n: number }>('SELECT id, n FROM item ORDER BY id');
    expect(rows).toEqual([
      { id: 'p', n: 2 },
      { id: 'q', n: 2 },
    ]);
    expect(attempts).toBeGreaterThanOrEqual(3);
  });
});
