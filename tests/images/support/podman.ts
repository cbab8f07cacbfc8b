import { execFile } from 'node:child_process';

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

// crun fails on this project's hosts; runc works (scripts/images.sh builds with it too).
const GLOBAL_ARGS = ['--runtime', 'runc'];

/** Runs `podman <args>`; a non-zero exit is a result, not an exception. */
export function podman(args: string[], timeoutMs = 120_000): Promise<PodmanResult> {
  return new Promise((resolve, reject) => {
    execFile('podman', [...GLOBAL_ARGS, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`podman ${args.join(' ')}: ${error.message}`));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs `podman <args>` and returns its stdout; throws with podman's stderr on failure. */
export async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}
