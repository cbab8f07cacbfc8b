import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A Writable for runCli's stdout/stderr that keeps what was written. */
export class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** An empty commucat.toml in a fresh scratch directory: only the variables a test passes count. */
export function emptyConfigFile(prefix: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), `${prefix}-`)), 'commucat.toml');
  writeFileSync(file, '');
  return file;
}
