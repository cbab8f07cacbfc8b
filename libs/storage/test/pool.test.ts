import type { Pool } from 'pg';
import { createPgPool, isUnavailable, pingPostgres, StorageError } from '../src';
import { closedPort, eventually, RecordingLogger, stackEnv, TestSchema } from './support/stack';

let schema: TestSchema;

beforeAll(async () => {
  schema = await TestSchema.create('pool');
});

afterAll(async () => {
  await schema?.cleanup();
});

async function backendPid(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

describe('createPgPool', () => {
  it('applies search_path, application_name and statement_timeout to its connections', async () => {
    const pool = schema.pool({ applicationName: 'storage-test', statementTimeoutMs: 100 });
    const { rows } = await pool.query<{ schema: string; app: string }>("SELECT current_schema() AS schema, current_setting('application_name') AS app");
    expect(rows[0]).toEqual({ schema: schema.name, app: 'storage-test' });
    await expect(pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
  });

  it('refuses a searchPath that is not a plain identifier', () => {
    expect(() => createPgPool({ dsn: stackEnv('COMMUCAT_PG_DSN'), searchPath: 'x; DROP' })).toThrow('invalid schema name');
  });

  it('survives a server-side termination of an idle connection: logs it, next query works', async () => {
    const logger = new RecordingLogger();
    const pool = schema.pool({ max: 1, logger });
    const pid = await backendPid(pool);

    await schema.admin.query('SELECT pg_terminate_backend($1, 5000)', [pid]);
    await eventually(() => logger.count('warn') > 0, 'the idle-connection error to be logged');

    expect(await backendPid(pool)).not.toBe(pid);
  });

  it('survives a termination while a client is checked out: the query fails, the process does not', async () => {
    const logger = new RecordingLogger();
    const pool = schema.pool({ max: 1, logger });
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');

    await schema.admin.query('SELECT pg_terminate_backend($1, 5000)', [rows[0]!.pid]);
    const err = await client.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isUnavailable(err)).toBe(true);
    client.release(err as Error);

    expect(await backendPid(pool)).not.toBe(rows[0]!.pid);
  });
});

describe('pingPostgres', () => {
  it('resolves against the running server', async () => {
    await expect(pingPostgres(schema.pool())).resolves.toBeUndefined();
  });

  it('throws StorageError unavailable when nothing listens', async () => {
    const port = await closedPort();
    const pool = createPgPool({ dsn: `postgres://nobody:nothing@127.0.0.1:${port}/none`, connectionTimeoutMs: 500 });
    try {
      const err = await pingPostgres(pool, 1000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('unavailable');
    } finally {
      await pool.end();
    }
  });
});
