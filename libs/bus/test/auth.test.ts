import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BusError, connectBus, defineSubject, natsAuthOf, type Bus } from '../src';
import { jsonCodec, uniqueToken } from './support/stack';

// A NATS server of its own that requires credentials (the shared stack's does not).
const NATS_SERVER = process.env.COMMUCAT_NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const PASSWORD = 'pw-that-must-not-leak';
const TOKEN = 'token-that-must-not-leak';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startNats(authArgs: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), ...authArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!log.includes('Server is ready')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, child };
}

const note = defineSubject('test.auth', `commucat.test.${uniqueToken('auth')}.note`, jsonCodec<{ n: number }>());

async function roundTrip(bus: Bus): Promise<number> {
  const got = new Promise<number>((resolve) => bus.subscribe(note, {}, (m) => resolve(m.n)));
  await bus.ready();
  bus.publish(note, {}, { n: 7 });
  return got;
}

async function refusal(options: Parameters<typeof connectBus>[0]): Promise<BusError> {
  try {
    const bus = await connectBus(options);
    await bus.close();
  } catch (err) {
    return err as BusError;
  }
  throw new Error('connectBus succeeded without the right credentials');
}

describe('NATS authentication', () => {
  const servers: ChildProcess[] = [];
  afterAll(() => servers.forEach((s) => s.kill('SIGTERM')));

  test('user and password: the configured pair connects; none, or a wrong password, is refused without echoing it', async () => {
    const { url, child } = await startNats(['--user', 'commucat', '--pass', PASSWORD]);
    servers.push(child);
    const bus = await connectBus({ servers: url, name: 'auth-user', auth: natsAuthOf({ natsUser: 'commucat', natsPassword: PASSWORD }) });
    try {
      expect(await roundTrip(bus)).toBe(7);
    } finally {
      await bus.close();
    }
    const anonymous = await refusal({ servers: url, name: 'auth-none' });
    expect(anonymous).toBeInstanceOf(BusError);
    expect(anonymous.code).toBe('unavailable');
    const wrong = await refusal({ servers: url, name: 'auth-wrong', auth: { user: 'commucat', pass: 'not-it' } });
    expect(wrong.code).toBe('unavailable');
    // Credentials written into the URL are masked in the message (which services log).
    const inUrl = await refusal({ servers: url.replace('nats://', `nats://commucat:${PASSWORD}x@`), name: 'auth-url' });
    expect(inUrl.message).not.toContain(PASSWORD);
    expect(inUrl.message).toContain('commucat:***@');
  });

  test('token: the configured token connects, another is refused', async () => {
    const { url, child } = await startNats(['--auth', TOKEN]);
    servers.push(child);
    const bus = await connectBus({ servers: url, name: 'auth-token', auth: natsAuthOf({ natsToken: TOKEN }) });
    try {
      expect(await roundTrip(bus)).toBe(7);
    } finally {
      await bus.close();
    }
    const wrong = await refusal({ servers: url, name: 'auth-token-wrong', auth: { token: 'other' } });
    expect(wrong.code).toBe('unavailable');
    expect(wrong.message).not.toContain(TOKEN);
  });

  test('natsAuthOf: a token wins, a user needs its password, nothing set is no auth', () => {
    expect(natsAuthOf({ natsToken: 't', natsUser: 'u', natsPassword: 'p' })).toEqual({ token: 't' });
    expect(natsAuthOf({ natsUser: 'u', natsPassword: 'p' })).toEqual({ user: 'u', pass: 'p' });
    expect(natsAuthOf({ natsUser: 'u' })).toBeUndefined();
    expect(natsAuthOf({})).toBeUndefined();
  });
});
