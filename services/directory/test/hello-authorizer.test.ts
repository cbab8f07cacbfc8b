import { createHash } from 'node:crypto';
import { parseJson, stringifyJson } from '@commucat/ccp1';
import {
  DeviceKeyPair, certificateFromJson, certificateToJson, signCertificate, verifyCertificate, x25519PublicKey,
  type DeviceCertificate, type DeviceCertificateData,
} from '@commucat/crypto';
import { HelloVerdict, type AuthorizeHelloRequest } from '@commucat/contracts';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import type { CertificateAuthority } from '../src/certificate-authority';
import { HelloAuthorizer, type HelloPolicy } from '../src/hello-authorizer';
import { sessionStore } from '../src/session-store';

/** A real CA (the same signing code secrets runs), in-process for these tests. */
class LocalCa implements CertificateAuthority {
  signed = 0;
  constructor(readonly keys = DeviceKeyPair.generate()) {}
  async publicKey(): Promise<Buffer> {
    return this.keys.publicKey;
  }
  async sign(data: Omit<DeviceCertificateData, 'issuer'>): Promise<DeviceCertificate> {
    this.signed += 1;
    return signCertificate({ ...data, issuer: this.keys.publicKey }, this.keys.privateKey);
  }
}

const POLICY: HelloPolicy = {
  domain: 'example.org', autoApproveDevices: true, maxAutoDevicesPerUser: 5, sessionTtlSeconds: 3600,
  certificateLifetimeSeconds: 30 * 86400, certificateReuseMarginSeconds: 86400,
};

let db: MigratedSchema;
let ca: LocalCa;
let seq = 0;

beforeAll(async () => {
  db = await migratedSchema('dir');
  ca = new LocalCa();
});
afterAll(() => db.drop());

function newDevice(handle?: string, extra: Partial<AuthorizeHelloRequest> = {}) {
  const keys = DeviceKeyPair.generate();
  seq += 1;
  const req: AuthorizeHelloRequest = {
    deviceId: `device-${seq}-${Date.now()}`, devicePublic: keys.publicKey, clientStatic: x25519PublicKey(keys.privateKey),
    handleHint: handle, ...extra,
  };
  return { keys, req };
}

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.pool.query(sql, params)).rows[0].n);

describe('HelloAuthorizer', () => {
  const authorizer = () => new HelloAuthorizer(db.pool, ca, POLICY);

  test('a brand-new handle signs up: user, device, certificate and a hashed session', async () => {
    const { req } = newDevice(`alice-${seq}`, { displayNameHint: 'Alice' });
    const res = await authorizer().authorize(req);
    expect(res.verdict).toBe(HelloVerdict.HELLO_VERDICT_AUTHORIZED);
    expect(res).toMatchObject({ userCreated: true, deviceCreated: true, certificateIssued: true });
    expect(res.user).toMatchObject({ handle: req.handleHint, displayName: 'Alice', domain: 'example.org' });
    expect(res.user!.userId).toMatch(/^[0-9a-f]{64}$/);
    const cert = certificateFromJson(parseJson(res.certificateJson));
    expect(verifyCertificate(cert, ca.keys.publicKey)).toBe(true);
    expect(cert).toMatchObject({ deviceId: req.deviceId, userId: res.user!.userId });
    expect(cert.publicKey.equals(Buffer.from(req.devicePublic))).toBe(true);
    expect(cert.expiresAt - cert.issuedAt).toBe(30 * 86400);
    expect(res.certificate!.serial).toBe(cert.serial.toString());
    // the token is random hex and only its SHA-256 is stored
    expect(res.sessionToken).toMatch(/^[0-9a-f]{64}$/);
    const digest = createHash('sha256').update(res.sessionToken).digest();
    expect(await count('SELECT count(*) AS n FROM session WHERE token_hash = $1', [digest])).toBe(1);
    expect(await count("SELECT count(*) AS n FROM session WHERE encode(token_hash, 'hex') = $1", [res.sessionToken])).toBe(0);
    // one device of a cap of 5: no pairing needed yet
    expect(res.pairingRequired).toBe(false);
  });

  test('a reconnecting device gets its stored certificate back and a fresh session', async () => {
    const { req } = newDevice(`bob-${seq}`);
    const first = await authorizer().authorize(req);
    const signedBefore = ca.signed;
    const second = await authorizer().authorize({ ...req, handleHint: undefined });
    expect(second).toMatchObject({ verdict: HelloVerdict.HELLO_VERDICT_AUTHORIZED, userCreated: false, deviceCreated: false, certificateIssued: false });
    expect(second.certificate!.serial).toBe(first.certificate!.serial);
    expect(ca.signed).toBe(signedBefore);
    expect(second.sessionToken).not.toBe(first.sessionToken);
  });

  test('an unknown device naming an existing handle or user id is refused: no takeover (weakness §11.1)', async () => {
    const { req: owner } = newDevice(`carol-${seq}`);
    const ok = await authorizer().authorize(owner);
    const devicesBefore = await count('SELECT count(*) AS n FROM user_device WHERE user_id = $1', [ok.user!.userId]);

    const byHandle = await authorizer().authorize(newDevice(owner.handleHint).req);
    expect(byHandle.verdict).toBe(HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED);
    expect(byHandle.sessionToken).toBe('');
    const byUserId = await authorizer().authorize(newDevice(undefined, { userIdHint: ok.user!.userId }).req);
    expect(byUserId.verdict).toBe(HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED);
    expect(await count('SELECT count(*) AS n FROM user_device WHERE user_id = $1', [ok.user!.userId])).toBe(devicesBefore);
  });

  test('a known device can never swap its key through a Hello (weakness §11.2)', async () => {
    const { req } = newDevice(`dave-${seq}`);
    await authorizer().authorize(req);
    const attacker = DeviceKeyPair.generate();
    const res = await authorizer().authorize({ ...req, devicePublic: attacker.publicKey, clientStatic: x25519PublicKey(attacker.privateKey) });
    expect(res.verdict).toBe(HelloVerdict.HELLO_VERDICT_INVALID);
    const stored = (await db.pool.query('SELECT public_key FROM user_device WHERE device_id = $1', [req.deviceId])).rows[0].public_key as Buffer;
    expect(stored.equals(Buffer.from(req.devicePublic))).toBe(true);
  });

  test('hints that contradict a known device are refused', async () => {
    const { req } = newDevice(`erin-${seq}`);
    await authorizer().authorize(req);
    expect((await authorizer().authorize({ ...req, handleHint: 'someone-else' })).verdict).toBe(HelloVerdict.HELLO_VERDICT_INVALID);
    expect((await authorizer().authorize({ ...req, handleHint: undefined, userIdHint: 'f'.repeat(64) })).verdict).toBe(HelloVerdict.HELLO_VERDICT_INVALID);
  });

  test('a certificate from the CA re-attaches a device; a forged or expired one does not', async () => {
    const { req } = newDevice(`frank-${seq}`);
    const first = await authorizer().authorize(req);
    await db.pool.query('DELETE FROM user_device WHERE device_id = $1', [req.deviceId]);
    const withCert = { ...req, handleHint: undefined, certificateJson: first.certificateJson };
    const again = await authorizer().authorize(withCert);
    expect(again).toMatchObject({ verdict: HelloVerdict.HELLO_VERDICT_AUTHORIZED, deviceCreated: true, userCreated: false });
    expect(again.user!.userId).toBe(first.user!.userId);

    const forger = DeviceKeyPair.generate();
    const cert = certificateFromJson(parseJson(first.certificateJson));
    const forged = signCertificate({ ...cert, issuer: forger.publicKey }, forger.privateKey);
    const bad = await authorizer().authorize({ ...withCert, certificateJson: stringifyJson(certificateToJson(forged)) });
    expect(bad.verdict).toBe(HelloVerdict.HELLO_VERDICT_CRYPTO_FAILURE);

    const now = Math.floor(Date.now() / 1000);
    const expired = signCertificate({ ...cert, issuedAt: now - 100, expiresAt: now - 10 }, ca.keys.privateKey);
    const stale = await authorizer().authorize({ ...withCert, certificateJson: stringifyJson(certificateToJson(expired)) });
    expect(stale.verdict).toBe(HelloVerdict.HELLO_VERDICT_INVALID);
    expect((await authorizer().authorize({ ...withCert, certificateJson: '{"serial":' })).verdict).toBe(HelloVerdict.HELLO_VERDICT_INVALID);
  });

  test('auto-approval off or a full device cap needs pairing', async () => {
    const strict = new HelloAuthorizer(db.pool, ca, { ...POLICY, autoApproveDevices: false });
    expect((await strict.authorize(newDevice(`gina-${seq}`).req)).verdict).toBe(HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED);

    const capped = new HelloAuthorizer(db.pool, ca, { ...POLICY, maxAutoDevicesPerUser: 1 });
    const { req } = newDevice(`hank-${seq}`);
    const first = await capped.authorize(req);
    expect(first.pairingRequired).toBe(true); // T20: this device counts
    // a second device holding a valid certificate for itself still hits the cap
    const second = newDevice();
    const now = Math.floor(Date.now() / 1000);
    const cert = signCertificate({
      serial: 7n, userId: first.user!.userId, deviceId: second.req.deviceId, publicKey: second.keys.publicKey,
      issuer: ca.keys.publicKey, issuedAt: now, expiresAt: now + 3600,
    }, ca.keys.privateKey);
    const res = await capped.authorize({ ...second.req, certificateJson: stringifyJson(certificateToJson(cert)) });
    expect(res.verdict).toBe(HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED);
  });

  test('concurrent first Hellos for one handle: exactly one account is created', async () => {
    const handle = `ivy-${seq}`;
    const results = await Promise.all([1, 2, 3, 4].map(() => authorizer().authorize(newDevice(handle).req)));
    const verdicts = results.map((r) => r.verdict).sort();
    expect(verdicts.filter((v) => v === HelloVerdict.HELLO_VERDICT_AUTHORIZED)).toHaveLength(1);
    expect(verdicts.filter((v) => v === HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED)).toHaveLength(3);
    expect(await count('SELECT count(*) AS n FROM app_user WHERE handle = $1', [handle])).toBe(1);
  });
});

describe('sessions', () => {
  test('validation slides the expiry; expired, unknown and revoked-device sessions are refused', async () => {
    const authorizer = new HelloAuthorizer(db.pool, ca, { ...POLICY, sessionTtlSeconds: 60 });
    const { req } = newDevice(`jack-${seq}`);
    const res = await authorizer.authorize(req);
    await db.pool.query("UPDATE session SET expires_at = now() + interval '5 seconds'");
    const valid = await sessionStore.validateAndSlide(db.pool, res.sessionToken);
    expect(valid).toMatchObject({ userId: res.user!.userId, deviceId: req.deviceId });
    expect(valid!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 50_000);

    expect(await sessionStore.validateAndSlide(db.pool, 'f'.repeat(64))).toBeUndefined();
    const digest = createHash('sha256').update(res.sessionToken).digest();
    await db.pool.query("UPDATE session SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [digest]);
    expect(await sessionStore.validateAndSlide(db.pool, res.sessionToken)).toBeUndefined();

    const other = await authorizer.authorize(newDevice(`kate-${seq}`).req);
    await db.pool.query("UPDATE user_device SET status = 'revoked' WHERE user_id = $1", [other.user!.userId]);
    expect(await sessionStore.validateAndSlide(db.pool, other.sessionToken)).toBeUndefined();

    await db.pool.query("UPDATE session SET expires_at = now() - interval '2 days' WHERE token_hash = $1", [digest]);
    expect(await sessionStore.purgeExpired(db.pool)).toBeGreaterThanOrEqual(1);
  });
});
