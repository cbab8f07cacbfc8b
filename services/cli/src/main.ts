#!/usr/bin/env node
import { loadConfigOrExit } from '@commucat/config';
import { migrate } from './migrate.js';

const USAGE = `usage: commucat-admin <command>

commands:
  migrate    apply pending SQL migrations (storage.postgres_dsn / COMMUCAT_PG_DSN)
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'migrate': {
      const config = loadConfigOrExit({ require: ['storage.postgres_dsn'] });
      const applied = await migrate(config.storage.postgresDsn!);
      process.stdout.write(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'database is up to date\n');
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`error: unknown command ${command}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
