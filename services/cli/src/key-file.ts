import { closeSync, existsSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { CliError } from './errors';

const OWNER_ONLY = 0o600;

/** Fails early (before any key is made) when the file exists and --force was not given. */
export function assertWritable(path: string, force: boolean): void {
  if (!force && existsSync(path)) {
    throw new CliError('FILE_EXISTS', `${path} already exists`, 'choose another --out path, or pass --force to overwrite it');
  }
}

/**
 * Writes secret material to a file only its owner can read. Without `force` the file must not
 * exist (O_EXCL, so a file appearing meanwhile is not overwritten either); with it, an existing
 * file is truncated and its mode tightened to 0600 before anything is written.
 */
export function writeSecretFile(path: string, contents: string, force: boolean): void {
  let fd: number;
  try {
    fd = openSync(path, force ? 'w' : 'wx', OWNER_ONLY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError('FILE_EXISTS', `${path} already exists`, 'choose another --out path, or pass --force to overwrite it', { cause: err });
    throw new CliError('FILE_WRITE', `cannot create ${path}: ${(err as Error).message}`, 'check that the directory exists and is writable', { cause: err });
  }
  try {
    // open() only applies the mode to a new file (and through the umask): set it exactly.
    fchmodSync(fd, OWNER_ONLY);
    writeSync(fd, contents);
  } catch (err) {
    throw new CliError('FILE_WRITE', `cannot write ${path}: ${(err as Error).message}`, undefined, { cause: err });
  } finally {
    closeSync(fd);
  }
}
