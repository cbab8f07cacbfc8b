import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { DeviceKeyPair, NoiseStaticKey, verifyCertificate } from '@commucat/crypto';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { bootstrapSecrets } from '../src/bootstrap';
import { openSecret, sealSecret } from '../src/sealing';
import { SecretStore } from '../src/secret-store';
import { SecretsService } from '../src/secrets-service';

const logger = pino({ level: 'silent' });
let db: MigratedSchema;
beforeAll(async () => { db = await migratedSchema('sec'); });
afterAll(() => db.drop());

describe('sealing', () => {
  test('round trip; a wrong key or another row fails without revealing bytes', () => {
    const kek = randomBytes(32);
    const sealed = sealSecret(kek, 'server_secret:noise-static:1', Buffer.from('top secret'));
    expect(sealed.includes(Buffer.from('top secret'))).toBe(false);
    expect(openSecret(kek, 'server_secret:noise-static:1', sealed).toString()).toBe('top secret');
    expect(() => openSecret(randomBytes(32), 'server_secret:noise-static:1', sealed)).toThrow(/wrong key-encryption key/);
    expect(() => openSecret(kek, 'server_secret:noise-static:2', sealed)).toThrow(/server_secret:noise-static:2/);
  });
});

describe('bootstrap and service', () => {
  const kek = randomBytes(32);

  test('first start creates one Noise key and one CA; a restart keeps both', async () => {
    const store = new SecretStore(kek);
    await bootstrapSecrets(db.pool, store, {}, logger);
    const first = new SecretsService(db.pool, store);
    const ca = await first.loadCa();
    const keys = await first.noiseKeys();
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]).toMatchObject({ version: 1, rotatesAt: 0, expiresAt: 0 });
    expect(NoiseStaticKey.fromPrivate(Buffer.from(keys.keys[0]!.privateKey)).publicKey.equals(Buffer.from(keys.keys[0]!.publicKey))).toBe(true);

    // a second replica (or a restart) bootstraps concurrently and finds the same keys
    await Promise.all([bootstrapSecrets(db.pool, new SecretStore(kek), {}, logger), bootstrapSecrets(db.pool, new SecretStore(kek), {}, logger)]);
    const second = new SecretsService(db.pool, new SecretStore(kek));
    expect((await second.loadCa()).publicKey.equals(ca.publicKey)).toBe(true);
    const again = await second.noiseKeys();
    expect(again.keys).toHaveLength(1);
    expect(Buffer.from(again.keys[0]!.publicKey).equals(Buffer.from(keys.keys[0]!.publicKey))).toBe(true);

    // private keys are sealed at rest
    const { rows } = await db.pool.query('SELECT secret FROM server_secret');
    for (const r of rows) expect((r.secret as Buffer).includes(Buffer.from(keys.keys[0]!.privateKey))).toBe(false);
    // and unreadable with another KEK
    await expect(new SecretStore(randomBytes(32)).active(db.pool, 'device-ca')).rejects.toThrow(/wrong key-encryption key/);
  });

  test('the CA signs certificates that verify against its public key, and validates requests', async () => {
    const service = new SecretsService(db.pool, new SecretStore(kek));
    const ca = await service.loadCa();
    const device = DeviceKeyPair.generate();
    const req = { serial: '18446744073709551615', userId: 'u1', deviceId: 'd1', publicKey: device.publicKey, issuedAt: 1700000000, expiresAt: 1702592000 };
    const res = service.sign(req);
    expect(Buffer.from(res.issuer).equals(ca.publicKey)).toBe(true);
    const cert = { serial: 18446744073709551615n, userId: 'u1', deviceId: 'd1', publicKey: device.publicKey, issuer: ca.publicKey, issuedAt: 1700000000, expiresAt: 1702592000, signature: Buffer.from(res.signature) };
    expect(verifyCertificate(cert, ca.publicKey)).toBe(true);
    expect(() => service.sign({ ...req, serial: '18446744073709551616' })).toThrow(/u64/);
    expect(() => service.sign({ ...req, publicKey: Buffer.alloc(31) })).toThrow(/32 bytes/);
    expect(() => service.sign({ ...req, expiresAt: req.issuedAt })).toThrow(/precede/);
  });
});

describe('configured keys', () => {
  test('a configured Noise key and federation seed are used on an empty database; a mismatched public key is refused', async () => {
    const other = await migratedSchema('sec');
    try {
      const noise = NoiseStaticKey.generate();
      const seed = Buffer.from('202122232425262728292a2b2c2d2e2f202122232425262728292a2b2c2d2e2f', 'hex');
      await expect(bootstrapSecrets(other.pool, new SecretStore(kek()), { noisePrivate: noise.privateKey, noisePublic: NoiseStaticKey.generate().publicKey }, logger))
        .rejects.toThrow(/does not match/);
      const store = new SecretStore(kek());
      await bootstrapSecrets(other.pool, store, { noisePrivate: noise.privateKey, noisePublic: noise.publicKey, federationSeed: seed }, logger);
      const service = new SecretsService(other.pool, store);
      // TV-CRYPTO-07: the sample federation seed gives this CA
      expect((await service.loadCa()).publicKey.toString('hex')).toBe('9719e690a626f3acdf4894922f245008e0345d1e152abe205a5e49f1f77fcbe2');
      expect(Buffer.from((await service.noiseKeys()).keys[0]!.publicKey).equals(noise.publicKey)).toBe(true);
    } finally {
      await other.drop();
    }
    function kek(): Buffer { return Buffer.alloc(32, 7); }
  });
});
