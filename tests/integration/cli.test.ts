import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createDeviceIdentity } from '@commucat/client';
import { certificateFromJson } from '@commucat/crypto';
import { cli, type CliRun } from '../support/cli-run';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { freePort } from '../support/ports';

// The operator CLI as shipped: the built services/cli/dist/main.js, run against a real fleet.
jest.setTimeout(120_000);


/** --json must give exactly one JSON document on stdout. */
function json<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.stdout) as T;
}

interface DeviceRow {
  device_id: string;
  status: string;
  public_key: string;
  created_at: string | null;
}

let fleet: TestFleet;
let env: NodeJS.ProcessEnv;
const scratch = mkdtempSync(path.join(tmpdir(), 'commucat-cli-it-'));

beforeAll(async () => {
  fleet = await TestFleet.start();
  env = fleet.env();
});
afterAll(async () => {
  await fleet?.stop();
});

async function listDevices(userId: string): Promise<DeviceRow[]> {
  const run = await cli(['devices', 'list', '--user', userId, '--json'], env);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return json<{ user_id: string; devices: DeviceRow[] }>(run).devices;
}

describe('commucat-cli against a running fleet', () => {
  test('register-user creates a user and refuses a taken handle', async () => {
    const handle = `cli-reg-${process.pid}-${Date.now()}`;
    const created = await cli(['register-user', '--handle', handle, '--display-name', 'Operator Made', '--json'], env);
    expect(created.code).toBe(0);
    expect(created.stderr).toBe('');
    const user = json(created);
    expect(user).toEqual({ user_id: expect.stringMatching(/^\S+$/), handle, domain: fleet.domain, display_name: 'Operator Made' });

    const text = await cli(['register-user', `${handle}-2`], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^user_id=\\S+\\nhandle=${handle}-2\\ndomain=${fleet.domain}\\n$`));
    expect(text.stderr).toMatch(/calling directory RegisterUser at 127\.0\.0\.1:\d+/);

    const again = await cli(['register-user', '--handle', handle, '--json'], env);
    expect(again.code).toBe(1);
    expect(json<{ error: { code: string } }>(again).error.code).toBe('ALREADY_EXISTS');
  });

  test('devices list shows a device that connected through the TS client, as JSON and as a table', async () => {
    const identity = newIdentity('cli-list');
    const conn = await connectTo(fleet, identity);
    const userId = String(conn.ack.user_id);
    try {
      const devices = await listDevices(userId);
      expect(devices).toHaveLength(1);
      expect(devices[0]).toMatchObject({ device_id: identity.deviceId, status: 'active', public_key: identity.keys.publicKey.toString('hex') });
      expect(Date.parse(devices[0]!.created_at!)).toBeGreaterThan(Date.now() - 120_000);

      const table = await cli(['devices', 'list', '--user', userId], env);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^device_id\s+status\s+created_at\s+last_rotated_at\s+public_key$/);
      expect(lines[2]).toMatch(new RegExp(`^${identity.deviceId}\\s+active\\s`));
    } finally {
      await conn.close();
    }
  });

  test('sessions revoke revokes the REST sessions of a device, then of a user', async () => {
    const identity = newIdentity('cli-sess');
    const conn = await connectTo(fleet, identity);
    const userId = String(conn.ack.user_id);
    await conn.close();

    const byDevice = await cli(['sessions', 'revoke', '--device', identity.deviceId, '--json'], env);
    expect(byDevice.code).toBe(0);
    expect(json(byDevice)).toEqual({ device_id: identity.deviceId, sessions_revoked: 1 });
    // Nothing is left to revoke.
    const none = await cli(['sessions', 'revoke', '--user', userId], env);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`user_id=${userId}\nsessions_revoked=0\n`);

    // A new connection makes a new session, which the per-user form finds.
    const conn2 = await connectTo(fleet, identity);
    await conn2.close();
    const byUser = await cli(['sessions', 'revoke', '--user', userId, '--json'], env);
    expect(json(byUser)).toEqual({ user_id: userId, sessions_revoked: 1 });
  });

  test('devices revoke marks the device revoked and its gateway drops the connection', async () => {
    const identity = newIdentity('cli-revoke');
    const conn = await connectTo(fleet, identity);
    const userId = String(conn.ack.user_id);

    const run = await cli(['devices', 'revoke', identity.deviceId, '--json'], env);
    expect(run.code).toBe(0);
    expect(json(run)).toEqual({ device_id: identity.deviceId, status: 'revoked', sessions_revoked: 1 });
    await expect(conn.closed).resolves.toEqual({ reason: expect.any(String) });
    expect((await listDevices(userId))[0]).toMatchObject({ device_id: identity.deviceId, status: 'revoked' });
    // A revoked device cannot come back.
    await expect(connectTo(fleet, identity)).rejects.toBeDefined();

    const unknown = await cli(['devices', 'revoke', `no-such-device-${Date.now()}`], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: directory RevokeDevice: /m);
  });

  test('rotate-keys writes the private key only to a 0600 file; the device then joins its user with the certificate', async () => {
    const handle = `cli-rot-${process.pid}-${Date.now()}`;
    const userId = String(json(await cli(['register-user', '--handle', handle, '--json'], env)).user_id);
    const keyFile = path.join(scratch, 'device-key.json');

    const run = await cli(['rotate-keys', '--user', userId, '--out', keyFile], env);
    expect(run.code).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, string>;
    expect(stored.format).toBe('commucat-device-key/1');
    expect(stored.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.private_key).toMatch(/^[0-9a-f]{64}$/);

    // No private byte string in any usual encoding reaches the terminal.
    const printed = run.stdout + run.stderr;
    for (const secretHex of [stored.seed!, stored.private_key!]) {
      const bytes = Buffer.from(secretHex, 'hex');
      for (const form of [secretHex, secretHex.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')]) expect(printed).not.toContain(form);
    }
    expect(run.stdout).toContain(`public_key=${stored.public_key}\n`);
    expect(run.stdout).toContain(`key_file=${keyFile}\n`);
    expect(run.stdout).toMatch(/^device_id=device-\d+$/m);

    // The stored seed and certificate let a new device join the existing user without pairing.
    const certificate = certificateFromJson(JSON.parse(stored.certificate!));
    expect(certificate.userId).toBe(userId);
    const identity = createDeviceIdentity({ deviceId: stored.device_id!, seed: Buffer.from(stored.seed!, 'hex'), handle });
    identity.certificate = certificate;
    const conn = await connectTo(fleet, identity);
    expect(conn.ack.user_id).toBe(userId);
    await conn.close();
    const devices = await listDevices(userId);
    expect(devices.map((d) => [d.device_id, d.public_key])).toEqual([[stored.device_id, stored.public_key]]);

    // The file is never overwritten without --force; a registered device id is refused.
    const refused = await cli(['rotate-keys', '--user', userId, '--out', keyFile, '--json'], env);
    expect(refused.code).toBe(1);
    expect(json<{ error: { code: string } }>(refused).error.code).toBe('FILE_EXISTS');
    expect(readFileSync(keyFile, 'utf8')).toBe(JSON.stringify(stored, null, 2) + '\n');
    const sameDevice = await cli(['rotate-keys', '--user', userId, '--device', stored.device_id!, '--out', keyFile, '--force'], env);
    expect(sameDevice.code).toBe(1);
    expect(sameDevice.stderr).toMatch(/already registered/);

    const forced = await cli(['rotate-keys', '--user', userId, '--device', 'cli-second', '--out', keyFile, '--force', '--json'], env);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toBe('');
    const rotated = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, string>;
    expect(rotated.private_key).not.toBe(stored.private_key);
    expect(forced.stdout).not.toContain(rotated.private_key);
    expect(forced.stdout).not.toContain(rotated.seed);
    expect(json(forced)).toMatchObject({ user_id: userId, device_id: 'cli-second', public_key: rotated.public_key, key_file: keyFile });
  });

  test('rotate-keys refuses an unknown user without writing a file', async () => {
    const keyFile = path.join(scratch, 'never.json');
    const run = await cli(['rotate-keys', '--user', `nobody-${Date.now()}`, '--out', keyFile], env);
    expect(run.code).toBe(1);
    expect(() => statSync(keyFile)).toThrow();
  });

  test('diagnose passes with the fleet up, checking stores, every gRPC health and the admin /readyz', async () => {
    // The fleet's admin ports are chosen at start; configure them as an operator would.
    const processes = fleet['processes'] as Map<string, { service: string; adminPort: number }>;
    const adminEnv: Record<string, string> = {};
    for (const proc of processes.values()) adminEnv[`COMMUCAT_${proc.service.toUpperCase()}_ADMIN_BIND`] = `127.0.0.1:${proc.adminPort}`;
    const run = await cli(['diagnose', '--json'], { ...env, ...adminEnv });
    const report = json<{ ok: boolean; checks: { component: string; status: string; latency_ms: number; detail: string }[] }>(run);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.component).sort()).toEqual(
      [
        'postgres', 'redis', 'nats', 'jetstream',
        'secrets grpc', 'directory grpc', 'presence grpc', 'relay grpc', 'router grpc', 'media grpc', 'federation grpc',
        'secrets admin', 'directory admin', 'presence admin', 'relay admin', 'router admin', 'media admin', 'federation admin', 'gateway admin',
      ].sort(),
    );

    const table = await cli(['diagnose'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^component\s+target\s+status\s+latency\s+detail\n/);
    expect(table.stdout).toMatch(/^directory grpc\s+127\.0\.0\.1:\d+\s+ok\s+\d+ ms\s+SERVING$/m);
    expect(table.stdout).toMatch(/all 11 checks passed\n$/);
    expect(table.stderr).toMatch(/running 11 checks/);
  });

  test('diagnose exits 1 and names the failing component when an address is wrong', async () => {
    const wrong = `127.0.0.1:${await freePort()}`;
    const run = await cli(['diagnose', '--json', '--timeout', '1500'], { ...env, COMMUCAT_DIRECTORY_ADDR: wrong });
    expect(run.code).toBe(1);
    const report = json<{ ok: boolean; checks: { component: string; target: string; status: string; detail: string }[] }>(run);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.component)).toEqual(['directory grpc']);
    expect(report.checks.find((c) => c.component === 'directory grpc')).toMatchObject({ target: wrong, detail: expect.stringMatching(/ECONNREFUSED.*make up/) });

    const text = await cli(['diagnose', '--timeout', '1500'], { ...env, COMMUCAT_DIRECTORY_ADDR: wrong });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^directory grpc\s+\S+\s+FAIL\s/m);
    expect(text.stdout).toMatch(/1 of 11 checks failed\n$/);
  });

  test('the directory being unreachable is exit 3 with a hint', async () => {
    const wrong = `127.0.0.1:${await freePort()}`;
    const run = await cli(['devices', 'list', '--user', 'u', '--json'], { ...env, COMMUCAT_DIRECTORY_ADDR: wrong });
    expect(run.code).toBe(3);
    expect(json(run)).toEqual({
      error: { code: 'UNREACHABLE', message: expect.stringContaining(`cannot reach directory at ${wrong}`), hint: expect.stringContaining('make up') },
    });
  });

  test('migrate is idempotent on the migrated fleet schema', async () => {
    const run = await cli(['migrate', '--json'], env);
    expect(run.code).toBe(0);
    expect(json(run)).toEqual({ applied: [] });
  });
});
