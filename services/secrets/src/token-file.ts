import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a new admin token where only the operator can read it: a 0600 file replaced atomically
 * (temp file + rename), never a log line. A Kubernetes Secret sink is future work; mounting this
 * file from an emptyDir is the current path.
 */
export function writeAdminTokenFile(target: string, token: string): void {
  mkdirSync(path.dirname(path.resolve(target)), { recursive: true, mode: 0o700 });
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, `${token}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, target);
}
