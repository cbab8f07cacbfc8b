import type { Pool, PoolClient } from 'pg';
import { StorageError } from './errors';
import { silentLogger, type StorageLogger } from './logger';
import { loadMigrationFiles, type MigrationFile } from './migration-files';

export interface RunMigrationsOptions {
  logger?: StorageLogger;
}

export interface MigrationStatusEntry {
  version: number;
  name: string;
  /** File name in the directory; null when the database records a version with no file. */
  file: string | null;
  state: 'applied' | 'pending' | 'checksum_mismatch' | 'missing_file';
  appliedAt: Date | null;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

// One lock per schema: runners for different schemas (test isolation, several databases on
// one server) don't wait on each other, runners for the same schema are serialised.
const LOCK_KEY_SQL = `hashtextextended('commucat.schema_migrations:' || coalesce(current_schema(), ''), 0)`;

/**
 * Applies every pending `NNN_name.sql` in `dir`, in numeric order, each in its own transaction
 * together with its schema_migrations row, so a failing file leaves no trace and the next run
 * starts again at that file.
 *
 * Concurrent runners (several replicas starting at once) serialise on a session advisory lock;
 * the first applies, the others then find nothing to do. Before applying anything, every
 * already-applied migration's checksum is compared with its file: an edited migration is an
 * error naming the file, because the database no longer matches what the file says.
 *
 * Files must not contain their own BEGIN/COMMIT, nor statements that refuse to run inside a
 * transaction (CREATE INDEX CONCURRENTLY).
 */
export async function runMigrations(
  pool: Pool,
  dir: string,
  options: RunMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const logger = options.logger ?? silentLogger;
  const files = await loadMigrationFiles(dir);
  const client = await pool.connect();
  // After any failure the connection's state (open transaction, held lock) is uncertain:
  // destroying it makes the server release both.
  let destroy = false;
  try {
    await client.query(`SELECT pg_advisory_lock(${LOCK_KEY_SQL})`);
    try {
      await client.query(CREATE_TABLE);
      const applied = await readApplied(client);
      verifyChecksums(files, applied);
      const done: string[] = [];
      for (const file of files) {
        if (applied.has(file.version)) continue;
        await applyOne(client, file);
        logger.info({ migration: file.file }, 'migration applied');
        done.push(file.file);
      }
      return { applied: done };
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY_SQL})`).catch(() => {
        destroy = true;
      });
    }
  } catch (err) {
    destroy = true;
    throw err;
  } finally {
    client.release(destroy);
  }
}

/** Compares the directory with schema_migrations without changing anything. */
export async function migrationStatus(pool: Pool, dir: string): Promise<MigrationStatusEntry[]> {
  const files = await loadMigrationFiles(dir);
  const exists = await pool.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  const applied = exists.rows[0]?.present ? await readApplied(pool) : new Map<number, AppliedRow>();
  const entries: MigrationStatusEntry[] = files.map((file) => {
    const row = applied.get(file.version);
    if (!row) return { version: file.version, name: file.name, file: file.file, state: 'pending', appliedAt: null };
    return {
      version: file.version,
      name: file.name,
      file: file.file,
      state: row.checksum === file.checksum ? 'applied' : 'checksum_mismatch',
      appliedAt: row.applied_at,
    };
  });
  const known = new Set(files.map((f) => f.version));
  for (const row of applied.values()) {
    if (!known.has(row.version)) {
      entries.push({ version: row.version, name: row.name, file: null, state: 'missing_file', appliedAt: row.applied_at });
    }
  }
  return entries.sort((a, b) => a.version - b.version);
}

async function readApplied(db: Pick<PoolClient, 'query'>): Promise<Map<number, AppliedRow>> {
  const result = await db.query<AppliedRow>('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
  return new Map(result.rows.map((row) => [row.version, row]));
}

function verifyChecksums(files: MigrationFile[], applied: Map<number, AppliedRow>): void {
  for (const file of files) {
    const row = applied.get(file.version);
    if (row && row.checksum !== file.checksum) {
      throw new StorageError(
        'migration_checksum_mismatch',
        `migration ${file.file} was changed after it was applied (recorded sha256 ${row.checksum}, file now ${file.checksum})`,
      );
    }
  }
}

async function applyOne(client: PoolClient, file: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(file.sql);
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [file.version, file.name, file.checksum]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new StorageError('migration_failed', `migration ${file.file} failed: ${(err as Error).message}`, { cause: err });
  }
}
