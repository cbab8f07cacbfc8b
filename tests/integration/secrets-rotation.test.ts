import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HandshakeRejectedError, type ClientConnection } from '@commucat/client';
import { verifyLedgerFile } from '@commucat/ledger';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rest } from '../support/rest-client';

jest.setTimeout(180_000);

const INITIAL_ADMIN = 'it-initial-admin-token-5f1d7c';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface KeyJson { version: number; public: string; rotates_at: string | null; expires_at: string | null }

describe('secret rotation under load, two secrets replicas', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'commucat-rotation-'));
  const tokenFile = path.join(scratch, 'admin-token');
  const ledgers = [path.join(scratch, 'ledger-1.jsonl'), path.join(scratch, 'ledger-2.jsonl')];
  let fleet: TestFleet;
  const open: ClientConnection[] = [];

  beforeAll(async () => {
    fleet = await TestFleet.start({
      env: {
        COMMUCAT_ROTATE_NOISE_ENABLED: 'true',
        COMMUCAT_ROTATE_NOISE_INTERVAL_SECONDS: '5',
        COMMUCAT_ROTATE_NOISE_GRACE_SECONDS: '3',
        COMMUCAT_ROTATE_NOISE_MAX_VERSIONS: '3',
        COMMUCAT_ROTATE_TICK_SECONDS: '1',
        COMMUCAT_ADMIN_TOKEN: INITIAL_ADMIN,
        COMMUCAT_ROTATE_ADMIN_ENABLED: 'true',
        COMMUCAT_ROTATE_ADMIN_INTERVAL_SECONDS: '5',
        COMMUCAT_ROTATE_ADMIN_GRACE_SECONDS: '2',
        COMMUCAT_ADMIN_TOKEN_FILE: tokenFile,
        COMMUCAT_LEDGER: 'file',
        COMMUCAT_LEDGER_TARGET: ledgers[0]!,
      },
    });
    // A second replica on the same database: each writes its own ledger (one writer per chain).
    await fleet.startExtra('secrets', 'secrets-2', { COMMUCAT_LEDGER_TARGET: ledgers[1]! });
  });
  afterAll(async () => {
    for (const conn of open) await conn.close().catch(() => undefined);
    await fleet?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const serverInfo = async () => (await rest(fleet, 'GET', '/api/server-info')).json as { noise_public: string; noise_keys: KeyJson[] };

  test('handshakes, sessions, key expiry, admin tokens and the catalogue in the database', async () => {
    const first = await serverInfo();
    const pinned = first.noise_keys.find((k) => k.public === first.noise_public)!;
    expect(pinned.rotates_at).not.toBeNull();
    const pinnedKey = Buffer.from(pinned.public, 'hex');
    const pinnedExpiry = Date.parse(pinned.expires_at!);

    // A session from before any rotation.
    const before = await connectTo(fleet, newIdentity('before'));
    open.push(before);

    // Live traffic: clients connect over and over, most with the current key from server-info,
    // some pinned to the first key.
    const failures: string[] = [];
    const pinnedOutcomes: { at: number; result: 'ok' | 'key_expired' }[] = [];
    let current = 0;
    let stop = false;
    const worker = async (pin: boolean) => {
      while (!stop) {
        const identity = newIdentity(pin ? 'pinned' : 'live');
        const startedAt = Date.now();
        try {
          const conn = await connectTo(fleet, identity, pin ? { serverStatic: pinnedKey } : {});
          await conn.close();
          if (pin) pinnedOutcomes.push({ at: startedAt, result: 'ok' });
          else current += 1;
        } catch (err) {
          if (pin && err instanceof HandshakeRejectedError && err.properties.code === 'key_expired') pinnedOutcomes.push({ at: startedAt, result: 'key_expired' });
          else failures.push(`${pin ? 'pinned' : 'live'}: ${(err as Error).message}`);
        }
        await sleep(150);
      }
    };
    const workers = [worker(false), worker(false), worker(false), worker(true)];

    // The first rotation shows up in server-info without any restart.
    const rotated = await waitFor('the first Noise rotation', async () => {
      const info = await serverInfo();
      return info.noise_public !== first.noise_public ? info : undefined;
    });
    expect(rotated.noise_keys.map((k) => k.public)).toContain(pinned.public);
    expect(rotated.noise_keys[0]!.version).toBeGreaterThan(pinned.version);

    // The old session still works after the rotation.
    expect((await rest(fleet, 'GET', '/api/devices', { token: before.session })).status).toBe(200);

    // After the pinned key expired, a client pinned to it is told to refetch server-info.
    await sleep(Math.max(0, pinnedExpiry - Date.now()) + 500);
    const rejection = await connectTo(fleet, newIdentity('late'), { serverStatic: pinnedKey }).then(
      () => { throw new Error('a handshake under an expired key succeeded'); },
      (err: unknown) => err,
    );
    expect(rejection).toBeInstanceOf(HandshakeRejectedError);
    expect((rejection as HandshakeRejectedError).properties).toEqual({
      code: 'key_expired', detail: 'server key expired: refetch /api/server-info', error: 'handshake', key_expired: true,
      server_info: '/api/server-info', title: 'KeyExpired',
    });
    // The session from before is unaffected by its key's expiry.
    expect((await rest(fleet, 'GET', '/api/devices', { token: before.session })).status).toBe(200);

    // Keep the traffic going over a few more rotations.
    await sleep(6_000);
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(current).toBeGreaterThan(10);
    // Pinned clients worked until the key expired (with a second of slack for clock and refresh
    // skew) and were told key_expired afterwards, never anything else.
    for (const o of pinnedOutcomes) {
      if (o.at < pinnedExpiry - 1_000) expect(o.result).toBe('ok');
      if (o.at > pinnedExpiry + 1_000) expect(o.result).toBe('key_expired');
    }
    expect(pinnedOutcomes.some((o) => o.result === 'ok')).toBe(true);
    expect(pinnedOutcomes.some((o) => o.result === 'key_expired')).toBe(true);

    // Database: versions unique and monotonic in time; no two replicas rotated in the same tick.
    const { rows } = await fleet.db.pool.query(
      `SELECT version, valid_after, created_by FROM server_secret WHERE name = 'noise-static' ORDER BY version`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    // Every version names the replica that created it (one of the two).
    expect(new Set(rows.map((r) => r.created_by as string)).size).toBeLessThanOrEqual(2);
    for (const r of rows) expect(r.created_by).toMatch(/^127\.0\.0\.1:\d+#\d+$/);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i].version).toBeGreaterThan(rows[i - 1].version);
      // A new version only once the previous one was due: never two in one tick.
      expect((rows[i].valid_after as Date).getTime() - (rows[i - 1].valid_after as Date).getTime()).toBeGreaterThanOrEqual(4_500);
    }

    // Both replicas' ledgers verify; together they record each rotation exactly once.
    const rotations: number[] = [];
    for (const file of ledgers) {
      if (!existsSync(file)) continue;
      expect(verifyLedgerFile(file)).toMatchObject({ ok: true });
      for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
        const meta = JSON.parse(line).metadata;
        if (meta.event === 'noise_rotated') rotations.push(meta.version);
      }
    }
    const versionsSeen = rows.map((r) => r.version as number).filter((v) => v > 1);
    // Old rows may have been pruned; every rotation still in the table was recorded once.
    for (const v of versionsSeen) expect(rotations.filter((r) => r === v)).toHaveLength(1);
    expect(new Set(rotations).size).toBe(rotations.length);
  });

  test('admin token: the rotated token works, the old one is refused after its grace, no log shows either', async () => {
    const seenTokens = new Set<string>([INITIAL_ADMIN]);
    const fileToken = await waitFor('a rotated admin token', async () => {
      const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
      return token.length === 64 ? token : undefined;
    });
    seenTokens.add(fileToken);
    // The initial token is refused once its grace passed (it rotated at least 5 s ago by now).
    await waitFor('the initial admin token to be refused', async () => {
      const res = await rest(fleet, 'GET', '/metrics', { token: INITIAL_ADMIN });
      return res.status === 401 ? true : undefined;
    });
    // Wait for one more rotation, then the newest token works and the previous one is refused after its grace.
    const newer = await waitFor('a further admin rotation', async () => {
      const token = readFileSync(tokenFile, 'utf8').trim();
      return token !== fileToken ? token : undefined;
    });
    seenTokens.add(newer);
    expect((await rest(fleet, 'GET', '/metrics', { token: newer })).status).toBe(200);
    expect((await rest(fleet, 'GET', '/api/security-stats', { token: newer })).status).toBe(200);
    await waitFor('the previous admin token to be refused', async () => {
      const res = await rest(fleet, 'GET', '/metrics', { token: fileToken });
      return res.status === 401 ? true : undefined;
    });
    expect((await rest(fleet, 'GET', '/metrics', { token: readFileSync(tokenFile, 'utf8').trim() })).status).toBe(200);

    for (const name of fleet.processNames()) {
      const log = fleet.logOf(name);
      expect(log.length).toBeGreaterThan(0);
      for (const token of seenTokens) expect(log.includes(token)).toBe(false);
    }
    for (const file of ledgers) {
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      for (const token of seenTokens) expect(text.includes(token)).toBe(false);
    }
  });
});
