import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { httpRequest } from './support';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'signal-service.js');

// The child runs plain node, so it needs the compiled packages.
beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', 'libs/service-kit'], { cwd: REPO_ROOT, stdio: 'pipe' });
}, 180_000);

interface Fixture {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout JSON line matching `predicate`. */
  line(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startFixture(mode: string): Fixture {
  const child = spawn(process.execPath, [FIXTURE, mode], { cwd: REPO_ROOT });
  const lines: Record<string, unknown>[] = [];
  const waiters: { predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    line: (predicate) =>
      new Promise((resolve, reject) => {
        const existing = lines.find(predicate);
        if (existing) return resolve(existing);
        waiters.push({ predicate, resolve });
        void exited.then(() => reject(new Error(`fixture exited; lines: ${JSON.stringify(lines)}`)));
      }),
  };
}

const fixtureEvent = (name: string) => (line: Record<string, unknown>) => line.fixture === name;

describe('installSignalHandlers (real child process)', () => {
  it('on SIGTERM withdraws readiness, runs hooks, stops and exits 0', async () => {
    const fixture = startFixture('ok');
    try {
      const started = await fixture.line(fixtureEvent('started'));
      const adminPort = started.adminPort as number;
      expect(typeof started.grpcPort).toBe('number');
      expect((await httpRequest(adminPort, '/readyz')).status).toBe(200);

      fixture.child.kill('SIGTERM');
      await fixture.line(fixtureEvent('hook-running'));
      const during = await httpRequest(adminPort, '/readyz');
      expect(during.status).toBe(503);
      expect(JSON.parse(during.body)).toEqual({ status: 'stopping', checks: {} });

      expect(await fixture.exited).toEqual({ code: 0, signal: null });
      expect(fixture.lines.some(fixtureEvent('hook-done'))).toBe(true);
      expect(fixture.lines).toContainEqual(expect.objectContaining({ msg: 'shutdown requested', signal: 'SIGTERM', service: 'fixture' }));
      expect(fixture.lines).toContainEqual(expect.objectContaining({ msg: 'fixture stopped' }));
    } finally {
      fixture.child.kill('SIGKILL');
    }
  }, 30_000);

  it('exits 1 when a shutdown hook fails (SIGINT works the same)', async () => {
    const fixture = startFixture('hook-fails');
    try {
      await fixture.line(fixtureEvent('started'));
      fixture.child.kill('SIGINT');
      expect(await fixture.exited).toEqual({ code: 1, signal: null });
      expect(fixture.lines).toContainEqual(
        expect.objectContaining({ msg: 'shutdown hook failed', err: expect.objectContaining({ message: 'could not close the database pool' }) }),
      );
    } finally {
      fixture.child.kill('SIGKILL');
    }
  }, 30_000);

  it('exits at once on a second signal while shutdown hangs', async () => {
    const fixture = startFixture('hang');
    try {
      await fixture.line(fixtureEvent('started'));
      fixture.child.kill('SIGTERM');
      await fixture.line(fixtureEvent('hook-running'));
      fixture.child.kill('SIGTERM');
      expect(await fixture.exited).toEqual({ code: 1, signal: null });
      expect(fixture.lines).toContainEqual(expect.objectContaining({ msg: 'second signal during shutdown; exiting now' }));
    } finally {
      fixture.child.kill('SIGKILL');
    }
  }, 30_000);

  it('exits 1 when shutdown outlasts the watchdog', async () => {
    const fixture = startFixture('hang-watchdog');
    try {
      await fixture.line(fixtureEvent('started'));
      fixture.child.kill('SIGTERM');
      expect(await fixture.exited).toEqual({ code: 1, signal: null });
      expect(fixture.lines).toContainEqual(expect.objectContaining({ msg: 'shutdown did not finish in time; exiting' }));
    } finally {
      fixture.child.kill('SIGKILL');
    }
  }, 30_000);
});
