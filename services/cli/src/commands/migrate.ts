import type { CommucatConfig } from '@commucat/config';
import { CliError } from '../errors';
import { migrate } from '../migrate';
import type { Output } from '../output';

export async function runMigrate(config: CommucatConfig, output: Output): Promise<void> {
  const dsn = config.storage.postgresDsn;
  if (dsn === undefined) throw new CliError('CONFIG', 'missing required config storage.postgres_dsn (COMMUCAT_PG_DSN)', 'set COMMUCAT_PG_DSN or storage.postgres_dsn in commucat.toml');
  output.progress('applying migrations …');
  let applied: string[];
  try {
    applied = await migrate(dsn);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'unavailable' || code === 'ECONNREFUSED') {
      throw new CliError('UNREACHABLE', `cannot reach PostgreSQL: ${(err as Error).message}`, 'is the stack up? run `make up`; otherwise check COMMUCAT_PG_DSN', { cause: err });
    }
    throw err;
  }
  output.result({ applied }, applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'database is up to date\n');
}
