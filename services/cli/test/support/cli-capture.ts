import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
