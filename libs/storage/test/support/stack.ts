import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Pool } from 'pg';
import { createPgPool, type PgPoolOptions, type StorageLogger } from '../../src';

const HOW_TO_START = 'start the stack: scripts/stack.sh start; eval $(scripts/stack.sh env)';

/** Reads a stack variable or fails the test file with instructions (never skips). */
export function stackEnv(name: 'COMMUCAT_PG_DSN' | 'COMMUCAT_REDIS_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set — ${HOW_TO_START}`);
  return value;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * A schema of its own for one test file; pools made through it see only that schema.
 * `cleanup()` ends every pool it made and drops the schema.
 */
export class TestSchema {
  private readonly pools: Pool[] = [];
  private constructor(
    readonly dsn: string,
    readonly name: string,
    readonly admin: Pool,
  ) {}

  static async create(prefix: string): Promise<TestSchema> {
    const dsn = stackEnv('COMMUCAT_PG_DSN');
    const admin = new Pool({ connectionString: dsn, max: 2 });
    const name = uniqueName(prefix);
    await admin.query(`CREATE SCHEMA ${name}`);
    return new TestSchema(dsn, name, admin);
  }

  pool(options: Partial<PgPoolOptions> = {}): Pool {
    const pool = createPgPool({ dsn: this.dsn, searchPath: this.name, ...options });
    this.pools.push(pool);
    return pool;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end().catch(() => undefined)));
    await this.admin.query(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`);
    await this.admin.end();
  }
}

/** A logger that remembers what it was given, so tests can assert on diagnostics. */
export class RecordingLogger implements StorageLogger {
  readonly entries: Array<{ level: string; obj: object; msg?: string }> = [];
  info(obj: object, msg?: string) {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string) {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string) {
    this.entries.push({ level: 'error', obj, msg });
  }
  count(level: string): number {
    return this.entries.filter((e) => e.level === level).length;
  }
}

/** A TCP port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
