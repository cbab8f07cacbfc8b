// Runs the Rust harness through tests/interop/run.sh, which builds it first if needed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const RUN_SH = join(__dirname, '..', 'run.sh');

export interface HarnessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runHarness(args: string[]): HarnessResult {
  const result = spawnSync('bash', [RUN_SH, ...args], { encoding: 'utf8', timeout: 600_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
