import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors';

export interface MigrationFile {
  version: number;
  /** The part after the number, e.g. "init" for 001_init.sql. */
  name: string;
  /** The file name, e.g. "001_init.sql". */
  file: string;
  /** sha256 of the file contents, hex. */
  checksum: string;
  sql: string;
}

const MIGRATION_NAME = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_-]*)\.sql$/;

/**
 * Reads every `NNN_name.sql` in `dir`, ordered by number. A `.sql` file that does not follow
 * the naming scheme, or two files with the same number, is an error: silently skipping a
 * misnamed migration would leave a database without it.
 */
export async function loadMigrationFiles(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: MigrationFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.sql')) continue;
    const match = MIGRATION_NAME.exec(entry.name);
    if (!match) {
      throw new StorageError('migration_invalid', `migration file ${entry.name} does not match NNN_name.sql`);
    }
    const sql = await readFile(join(dir, entry.name), 'utf8');
    files.push({
      version: Number.parseInt(match[1]!, 10),
      name: match[2]!,
      file: entry.name,
      checksum: createHash('sha256').update(sql, 'utf8').digest('hex'),
      sql,
    });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.version === files[i - 1]!.version) {
      throw new StorageError('migration_invalid', `migration files ${files[i - 1]!.file} and ${files[i]!.file} share version ${files[i]!.version}`);
    }
  }
  return files;
}
