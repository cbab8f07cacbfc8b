import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { migrationStatus, runMigrations, StorageError } from '../src';
import { RecordingLogger, TestSchema } from './support/stack';

let schema: TestSchema;
let dir: string;
let pool: Pool;

// Each test gets a schema and a migrations directory of its own.
beforeEach(async () => {
  schema = await TestSchema.create('mig');
  pool = schema.pool();
  dir = await mkdtemp(join(tmpdir(), 'commucat-migrations-'));
});

afterEach(async () => {
  await schema?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, sql: string): Promise<void> {
  await writeFile(join(dir, name), sql);
}

async function recorded(): Promise<Array<{ version: number; name: string }>> {
  const { rows } = await pool.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
  return rows;
}

async function tableExists(name: string): Promise<boolean> {
  const { rows } = await pool.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [name]);
  return rows[0]!.ok;
}

describe('runMigrations', () => {
  it('applies files in numeric (not lexical) order and records each', async () => {
    // 10 depends on 2; lexically "10_" sorts before "2_".
    await write('10_add_column.sql', 'ALTER TABLE widget ADD COLUMN colour text;');
    await write('2_widget.sql', 'CREATE TABLE widget (id serial PRIMARY KEY);');
    await write('README.md', 'not a migration');
    const logger = new RecordingLogger();

    const result = await runMigrations(pool, dir, { logger });

    expect(result.applied).toEqual(['2_widget.sql', '10_add_column.sql']);
    expect(await recorded()).toEqual([
      { version: 2, name: 'widget' },
      { version: 10, name: 'add_column' },
    ]);
    await pool.query("INSERT INTO widget (colour) VALUES ('red')");
    expect(logger.count('info')).toBe(2);
  });

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    await write('001_counter.sql', "CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);");
    await runMigrations(pool, dir);
    const second = await runMigrations(pool, dir);
    expect(second.applied).toEqual([]);
    const { rows } = await pool.query<{ count: string }>('SELECT count(*) FROM counter');
    expect(rows[0]!.count).toBe('1');
  });

  it('applies only the new file on a later run', async () => {
    await write('001_a.sql', 'CREATE TABLE a (id int);');
    await runMigrations(pool, dir);
    await write('002_b.sql', 'CREATE TABLE b (id int);');
    expect((await runMigrations(pool, dir)).applied).toEqual(['002_b.sql']);
    expect(await tableExists('b')).toBe(true);
  });

  it('refuses to run when an applied migration was edited, naming the file, and applies nothing new', async () => {
    await write('001_a.sql', 'CREATE TABLE a (id int);');
    await runMigrations(pool, dir);
    await write('001_a.sql', 'CREATE TABLE a (id bigint);');
    await write('002_b.sql', 'CREATE TABLE b (id int);');

    const err = await runMigrations(pool, dir).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('migration_checksum_mismatch');
    expect((err as Error).message).toContain('001_a.sql');
    expect(await tableExists('b')).toBe(false);
    expect(await recorded()).toEqual([{ version: 1, name: 'a' }]);
  });

  it('rolls a failing migration back completely and keeps the ones before it', async () => {
    await write('001_a.sql', 'CREATE TABLE a (id int);');
    await write('002_broken.sql', 'CREATE TABLE half (id int);\nSELECT * FROM no_such_table;');
    await write('003_c.sql', 'CREATE TABLE c (id int);');

    const err = await runMigrations(pool, dir).catch((e: unknown) => e);

    expect((err as StorageError).code).toBe('migration_failed');
    expect((err as Error).message).toContain('002_broken.sql');
    expect(await recorded()).toEqual([{ version: 1, name: 'a' }]);
    expect(await tableExists('half')).toBe(false);
    expect(await tableExists('c')).toBe(false);

    // Fixed file: the next run resumes at 002.
    await write('002_broken.sql', 'CREATE TABLE half (id int);');
    expect((await runMigrations(pool, dir)).applied).toEqual(['002_broken.sql', '003_c.sql']);
  });

  it('rejects misnamed and duplicate-numbered files', async () => {
    await write('1_ok.sql', 'SELECT 1;');
    await write('init.sql', 'SELECT 1;');
    await expect(runMigrations(pool, dir)).rejects.toMatchObject({ code: 'migration_invalid', message: expect.stringContaining('init.sql') });
    await rm(join(dir, 'init.sql'));
    await write('01_again.sql', 'SELECT 1;');
    await expect(runMigrations(pool, dir)).rejects.toMatchObject({ code: 'migration_invalid', message: expect.stringContaining('01_again.sql') });
  });

  it('lets two concurrent runners both succeed with every migration applied exactly once', async () => {
    // The slow first file makes the runs overlap; the append-only log table would get two
    // rows per migration if both runners applied it.
    await write('001_log.sql', 'CREATE TABLE run_log (file text); SELECT pg_sleep(0.3); INSERT INTO run_log VALUES (\'001\');');
    await write('002_more.sql', "INSERT INTO run_log VALUES ('002');");
    await write('003_more.sql', "INSERT INTO run_log VALUES ('003');");
    const other = schema.pool(); // separate connections, like a second process

    const [first, second] = await Promise.all([runMigrations(pool, dir), runMigrations(other, dir)]);

    const applied = [...first.applied, ...second.applied].sort();
    expect(applied).toEqual(['001_log.sql', '002_more.sql', '003_more.sql']);
    expect([first.applied.length, second.applied.length].sort()).toEqual([0, 3]);
    const { rows } = await pool.query<{ file: string }>('SELECT file FROM run_log ORDER BY file');
    expect(rows.map((r) => r.file)).toEqual(['001', '002', '003']);
  });
});

describe('migrationStatus', () => {
  it('reports pending, applied, edited and missing migrations without changing anything', async () => {
    await write('001_a.sql', 'CREATE TABLE a (id int);');
    await write('002_b.sql', 'CREATE TABLE b (id int);');

    const before = await migrationStatus(pool, dir);
    expect(before.map((e) => [e.file, e.state])).toEqual([
      ['001_a.sql', 'pending'],
      ['002_b.sql', 'pending'],
    ]);
    expect(await tableExists('schema_migrations')).toBe(false);

    await runMigrations(pool, dir);
    await write('002_b.sql', '-- edited\nCREATE TABLE b (id int);');
    await rm(join(dir, '001_a.sql'));
    await write('003_c.sql', 'CREATE TABLE c (id int);');

    const after = await migrationStatus(pool, dir);
    expect(after.map((e) => [e.version, e.file, e.state])).toEqual([
      [1, null, 'missing_file'],
      [2, '002_b.sql', 'checksum_mismatch'],
      [3, '003_c.sql', 'pending'],
    ]);
    expect(after[0]!.appliedAt).toBeInstanceOf(Date);
  });
});
