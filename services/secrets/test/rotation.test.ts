import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { ed25519Verify, NoiseStaticKey } from '@commucat/crypto';
import { FileLedger, verifyLedgerFile } from '@commucat/ledger';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { generateAdminToken, hashAdminToken, matchesAnyAdminToken } from '../src/admin-token';
import { bootstrapSecrets } from '../src/bootstrap';
import type { RotationPolicy } from '../src/rotation-policy';
import { SecretRotator } from '../src/rotator';
import { SecretStore } from '../src/secret-store';
import { SecretsService } from '../src/secrets-service';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(path.join(tmpdir(), 'secrets-rotation-'));
const kek = randomBytes(32);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policy(tokenFile: string): RotationPolicy {
  return {
    noise: { enabled: true, intervalMs: 5_000, graceMs: 2_000, maxVersions: 3 },
    admin: { enabled: true, intervalMs: 5_000, graceMs: 1_000, maxVersions: 2, tokenFile },
    tickMs: 1_000,
  };
}

describe('admin token hashing', () => {
  test('salted: the same token hashes differently per salt; only the right token matches, among several records', () => {
    const token = generateAdminToken();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const a = hashAdminToken(token);
    const b = hashAdminToken(token);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.hash.equals(b.hash)).toBe(false);
    expect(a.hash.includes(Buffer.from(token))).toBe(false);
    const other = hashAdminToken(generateAdminToken());
    expect(matchesAnyAdminToken(token, [other, a])).toBe(true);
    expect(matchesAnyAdminToken(token, [other])).toBe(false);
    expect(matchesAnyAdminToken(`${token}x`, [a])).toBe(false);
    expect(matchesAnyAdminToken('', [a])).toBe(false);
    expect(matchesAnyAdminToken(token, [])).toBe(false);
  });
});

describe('rotation on one database', () => {
  let db: MigratedSchema;
  beforeAll(async () => { db = await migratedSchema('rot'); });
  afterAll(() => db.drop());

  test('two rotators racing on one DB: exactly one rotates per due tick, versions stay unique and monotonic', async () => {
    const tokenFile = path.join(dir, 'race', 'admin-token');
    const ledgerFile = path.join(dir, 'race-ledger.jsonl');
    const p = policy(tokenFile);
    const storeA = new SecretStore(kek, 'replica-a');
    const storeB = new SecretStore(kek, 'replica-b');
    const t0 = new Date();
    await bootstrapSecrets(db.pool, storeA, { rotation: p }, logger);
    const firstToken = readFileSync(tokenFile, 'utf8').trim();
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

    const ledger = new FileLedger(ledgerFile);
    const a = new SecretRotator(db.pool, storeA, p, { ledger, logger });
    const b = new SecretRotator(db.pool, storeB, p, { ledger, logger });

    // Not due yet: nothing happens, whoever gets the lock.
    const early = await Promise.all([a.tick(new Date(t0.getTime() + 1000)), b.tick(new Date(t0.getTime() + 1000))]);
    expect(early.flatMap((o) => o.rotated)).toEqual([]);

    // Due: race the two replicas several ticks in a row; the same instant on both.
    for (let step = 1; step <= 4; step++) {
      const at = new Date(t0.getTime() + step * 5_000 + 10);
      const outcomes = await Promise.all([a.tick(at), b.tick(at), a.tick(at), b.tick(at)]);
      const noise = outcomes.flatMap((o) => o.rotated).filter((r) => r.name === 'noise-static');
      expect(noise).toHaveLength(1);
    }
    const { rows } = await db.pool.query(`SELECT version, created_by, valid_after, expires_at FROM server_secret WHERE name = 'noise-static' ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    // No two versions start in the same tick.
    expect(new Set(rows.map((r) => (r.valid_after as Date).getTime())).size).toBe(rows.length);
    await ledger.close();
    const verdict = verifyLedgerFile(ledgerFile);
    expect(verdict).toMatchObject({ ok: true });
    const events = readFileSync(ledgerFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l).metadata);
    expect(events.filter((e) => e.event === 'noise_rotated').map((e) => e.version)).toEqual([2, 3, 4, 5]);
    expect(events.some((e) => e.event === 'admin_rotated')).toBe(true);

    // Tokens never reach the ledger; the file now holds a newer token and the first one is gone after its grace.
    const ledgerText = readFileSync(ledgerFile, 'utf8');
    const latestToken = readFileSync(tokenFile, 'utf8').trim();
    expect(latestToken).not.toBe(firstToken);
    expect(ledgerText.includes(firstToken) || ledgerText.includes(latestToken)).toBe(false);
  });

  test('a lock held elsewhere makes a tick skip instead of waiting', async () => {
    const p = policy(path.join(dir, 'skip', 'admin-token'));
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [0x636f6d6d]);
      const outcome = await new SecretRotator(db.pool, new SecretStore(kek), p, { ledger: new FileLedger(path.join(dir, 'skip.jsonl')), logger }).tick(new Date(Date.now() + 3_600_000));
      expect(outcome).toEqual({ locked: false, rotated: [], pruned: 0 });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});

describe('service over a rotating catalogue', () => {
  let db: MigratedSchema;
  beforeAll(async () => { db = await migratedSchema('rot'); });
  afterAll(() => db.drop());

  test('old and new Noise keys overlap, then the old one is listed as expired; admin tokens rotate with a grace', async () => {
    const tokenFile = path.join(dir, 'svc', 'admin-token');
    // Short real-time windows: the service reads the catalogue with the wall clock.
    const p: RotationPolicy = {
      noise: { enabled: true, intervalMs: 300, graceMs: 400, maxVersions: 3 },
      admin: { enabled: true, intervalMs: 300, graceMs: 300, maxVersions: 2, tokenFile },
      tickMs: 100,
    };
    const store = new SecretStore(kek, 'solo');
    await bootstrapSecrets(db.pool, store, { rotation: p, adminToken: 'configured-admin-token' }, logger);
    const service = new SecretsService(db.pool, store, 3);
    expect(await service.verifyAdminToken('configured-admin-token')).toEqual({ ok: true, configured: true });
    expect(await service.verifyAdminToken('wrong')).toEqual({ ok: false, configured: true });

    const first = (await service.noiseKeys()).keys;
    expect(first).toHaveLength(1);
    expect(first[0]!.expiresAt - first[0]!.rotatesAt).toBe(400);

    const rotator = new SecretRotator(db.pool, store, p, { ledger: new FileLedger(path.join(dir, 'svc.jsonl')), logger });
    await new Promise((r) => setTimeout(r, Math.max(0, first[0]!.rotatesAt - Date.now()) + 20));
    const outcome = await rotator.tick();
    expect(outcome.rotated.map((r) => r.name).sort()).toEqual(['admin-token', 'noise-static']);
    const newToken = readFileSync(tokenFile, 'utf8').trim();

    const overlap = await service.noiseKeys();
    expect(overlap.keys.map((k) => k.version)).toEqual([2, 1]);
    expect(overlap.expired).toEqual([]);
    expect(await service.verifyAdminToken(newToken)).toEqual({ ok: true, configured: true });
    // During its grace the old token still works.
    expect(await service.verifyAdminToken('configured-admin-token')).toEqual({ ok: true, configured: true });

    // Wait out version 1's grace (real time: the service reads with now()).
    await new Promise((r) => setTimeout(r, Math.max(0, first[0]!.expiresAt - Date.now()) + 50));
    const after = await service.noiseKeys();
    expect(after.keys.map((k) => k.version)).toEqual([2]);
    expect(after.expired.map((k) => k.version)).toEqual([1]);
    expect(Buffer.from(after.expired[0]!.publicKey).equals(Buffer.from(first[0]!.publicKey))).toBe(true);
    // The configured token expired with its grace; the new one works.
    expect(await service.verifyAdminToken('configured-admin-token')).toEqual({ ok: false, configured: true });
    expect(await service.verifyAdminToken(newToken)).toEqual({ ok: true, configured: true });
  });

  test('without rotation the first keys never expire and no admin token exists unless configured', async () => {
    const other = await migratedSchema('rot');
    try {
      const store = new SecretStore(kek);
      await bootstrapSecrets(other.pool, store, {}, logger);
      const service = new SecretsService(other.pool, store);
      const keys = await service.noiseKeys();
      expect(keys.keys[0]).toMatchObject({ rotatesAt: 0, expiresAt: 0 });
      expect(await service.verifyAdminToken('anything')).toEqual({ ok: false, configured: false });
      const outcome = await new SecretRotator(other.pool, store, { ...policy(path.join(dir, 'never')), noise: { enabled: false, intervalMs: 1, graceMs: 0, maxVersions: 3 }, admin: { enabled: false, intervalMs: 1, graceMs: 0, maxVersions: 2 } },
        { ledger: new FileLedger(path.join(dir, 'never.jsonl')), logger }).tick(new Date(Date.now() + 3_600_000));
      expect(outcome.rotated).toEqual([]);
      expect((await service.noiseKeys()).keys).toHaveLength(1);

      // Rotation switched on, then off again: the newest key stops expiring instead of stranding everyone.
      await other.pool.query(`UPDATE server_secret SET rotates_at = now() + interval '1 second', expires_at = now() + interval '2 seconds' WHERE name = 'noise-static'`);
      await bootstrapSecrets(other.pool, store, {}, logger);
      expect((await service.noiseKeys()).keys[0]).toMatchObject({ version: 1, rotatesAt: 0, expiresAt: 0 });
    } finally {
      await other.drop();
    }
  });

  test('the federation key is a separate Ed25519 key that signs digests; the CA is not it', async () => {
    const store = new SecretStore(kek);
    const service = new SecretsService(db.pool, store);
    const ca = await service.loadCa();
    const federation = await service.loadFederationKey();
    expect(federation.publicKey.equals(ca.publicKey)).toBe(false);
    const digest = randomBytes(32);
    const signed = service.signFederationEvent(digest);
    expect(Buffer.from(signed.publicKey).equals(federation.publicKey)).toBe(true);
    expect(ed25519Verify(federation.publicKey, digest, signed.signature)).toBe(true);
    expect(ed25519Verify(ca.publicKey, digest, signed.signature)).toBe(false);
    expect(() => service.signFederationEvent(Buffer.alloc(0))).toThrow(/1\.\.64/);
    expect(service.federationKey()).toEqual({ publicKey: federation.publicKey, version: 1 });
    // Sealed at rest like every private key.
    const { rows } = await db.pool.query(`SELECT secret FROM server_secret WHERE name = 'federation-signing'`);
    expect((rows[0].secret as Buffer).includes(federation.secret)).toBe(false);
    expect(NoiseStaticKey).toBeDefined();
  });
});
