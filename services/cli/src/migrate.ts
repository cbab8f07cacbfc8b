import * as path from 'node:path';
import { createPgPool, runMigrations } from '@commucat/storage';

/** The repository's migrations/ folder, overridable where the CLI is installed elsewhere (images). */
export const defaultMigrationsDir = (): string =>
  process.env.COMMUCAT_MIGRATIONS_DIR ?? path.resolve(__dirname, '../../../migrations');

export async function migrate(dsn: string, dir = defaultMigrationsDir()): Promise<string[]> {
  const pool = createPgPool({ dsn, max: 1, applicationName: 'commucat-cli' });
  try {
    const { applied } = await runMigrations(pool, dir);
    return applied;
  } finally {
    await pool.end();
  }
}
