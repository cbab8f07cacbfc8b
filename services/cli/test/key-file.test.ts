import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CliError } from '../src/errors';
import { assertWritable, writeSecretFile } from '../src/key-file';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('writeSecretFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-key-file-'));
  const previousUmask = process.umask(0o022);
  afterAll(() => process.umask(previousUmask));

  it('creates the file with mode 0600 and the given contents', () => {
    const file = path.join(dir, 'new.json');
    writeSecretFile(file, 'secret\n', false);
    expect(readFileSync(file, 'utf8')).toBe('secret\n');
    expect(modeOf(file)).toBe(0o600);
  });

  it('refuses to overwrite an existing file without force, leaving it untouched', () => {
    const file = path.join(dir, 'existing.json');
    writeFileSync(file, 'old');
    expect(() => assertWritable(file, false)).toThrow(CliError);
    let error: unknown;
    try {
      writeSecretFile(file, 'new', false);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('FILE_EXISTS');
    expect((error as CliError).hint).toMatch(/--force/);
    expect(readFileSync(file, 'utf8')).toBe('old');
  });

  it('with force, replaces the contents and tightens a loose mode to 0600', () => {
    const file = path.join(dir, 'loose.json');
    writeFileSync(file, 'a much longer old content');
    chmodSync(file, 0o644);
    expect(() => assertWritable(file, true)).not.toThrow();
    writeSecretFile(file, 'new', true);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(modeOf(file)).toBe(0o600);
  });

  it('reports a missing directory as FILE_WRITE', () => {
    expect(() => writeSecretFile(path.join(dir, 'no-such-dir', 'k.json'), 'x', false)).toThrow(/cannot create/);
  });
});
