import * as grpc from '@grpc/grpc-js';
import { parseJson } from '@commucat/ccp1';
import { DeviceKeyPair, blake3, certificateFromJson, ed25519PublicKey, ed25519Sign, verifyCertificate } from '@commucat/crypto';
import { PAIR_CODE_ALPHABET, pairClaimMessage } from '../src/pair-code';
import { DirectoryHarness, PAIRING_TTL, type SignedUp } from './support/directory-harness';

const h = new DirectoryHarness();
let alice: SignedUp;

beforeAll(async () => {
  await h.start('dirpair');
  alice = await h.signUp('alice');
});
afterAll(() => h.stop());

const newCode = async (ttlSeconds = 0) => h.rpc('createPairing', { userId: alice.userId, issuerDeviceId: alice.deviceId, ttlSeconds });
const serverClaim = (pairCode: string) => h.rpc('claimPairing', { pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) });
const devicesOf = async (userId: string) => (await h.db.pool.query('SELECT device_id FROM user_device WHERE user_id = $1', [userId])).rows.length;

describe('CreatePairing', () => {
  test('issues an XXXX-XXXX code from the pairing alphabet with the CA key and the clamped TTL', async () => {
    const code = await newCode();
    const symbol = `[${PAIR_CODE_ALPHABET}]`;
    expect(code.pairCode).toMatch(new RegExp(`^${symbol}{4}-${symbol}{4}$`));
    expect(code.issuerDeviceId).toBe(alice.deviceId);
    expect(Buffer.from(code.deviceCaPublic).equals(h.ca.keys.publicKey)).toBe(true);
    expect(code.ttlSeconds).toBe(PAIRING_TTL);
    expect(code.expiresAt - code.issuedAt).toBe(PAIRING_TTL * 1000);
    expect(Math.abs(code.issuedAt - Date.now())).toBeLessThan(60_000);
    // asking for less than a minute gets a minute; asking for more than limits.pairing_ttl gets the limit
    expect((await newCode(5)).ttlSeconds).toBe(60);
    expect((await newCode(120)).ttlSeconds).toBe(120);
    expect((await newCode(7200)).ttlSeconds).toBe(PAIRING_TTL);
  });

  test('codes are random: a hundred are all different', async () => {
    const codes = await Promise.all(Array.from({ length: 100 }, () => newCode()));
    expect(new Set(codes.map((c) => c.pairCode)).size).toBe(100);
  });

  test('the issuer must be an active device of the caller (PERMISSION_DENIED otherwise)', async () => {
    const bob = await h.signUp('bob');
    expect(await h.refusal('createPairing', { userId: alice.userId, issuerDeviceId: bob.deviceId, ttlSeconds: 0 }))
      .toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'issuer_device_not_active' });
    expect(await h.refusal('createPairing', { userId: alice.userId, issuerDeviceId: 'no-such-device', ttlSeconds: 0 }))
      .toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'issuer_device_not_active' });
    await h.db.pool.query("UPDATE user_device SET status = 'revoked' WHERE device_id = $1", [bob.deviceId]);
    expect(await h.refusal('createPairing', { userId: bob.userId, issuerDeviceId: bob.deviceId, ttlSeconds: 0 }))
      .toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'issuer_device_not_active' });
  });

  test('user and issuer device are required', async () => {
    expect(await h.refusal('createPairing', { userId: '', issuerDeviceId: alice.deviceId, ttlSeconds: 0 }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'user_id_required' });
    expect(await h.refusal('createPairing', { userId: alice.userId, issuerDeviceId: '', ttlSeconds: 0 }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_id_required' });
  });
});

describe('ClaimPairing', () => {
  test('with a server-generated key: seed, private = BLAKE3(seed), a certificate for the new device of the same user', async () => {
    const code = await newCode();
    const res = await serverClaim(code.pairCode);
    expect(res.seed).toHaveLength(32);
    const seed = Buffer.from(res.seed);
    expect(Buffer.from(res.privateKey).equals(blake3(seed))).toBe(true);
    expect(Buffer.from(res.publicKey).equals(ed25519PublicKey(res.privateKey))).toBe(true);
    expect(Buffer.from(res.publicKey).equals(DeviceKeyPair.fromSeed(seed).publicKey)).toBe(true);
    expect(res.deviceId).toMatch(/^[0-9a-f]{64}$/);
    expect(res.issuerDeviceId).toBe(alice.deviceId);
    expect(res.user).toMatchObject({ userId: alice.userId, handle: alice.handle, domain: 'example.org' });
    expect(Buffer.from(res.deviceCaPublic).equals(h.ca.keys.publicKey)).toBe(true);

    const cert = certificateFromJson(parseJson(res.certificateJson));
    expect(verifyCertificate(cert, h.ca.keys.publicKey)).toBe(true);
    expect(cert).toMatchObject({ deviceId: res.deviceId, userId: alice.userId });
    expect(cert.publicKey.equals(Buffer.from(res.publicKey))).toBe(true);
    expect(cert.expiresAt - cert.issuedAt).toBe(30 * 86400);

    const stored = await h.db.pool.query(
      `SELECT d.user_id, d.status, d.public_key, e.reason, c.serial::text AS serial
         FROM user_device d JOIN device_key_event e USING (device_id) JOIN device_certificate c USING (device_id)
        WHERE d.device_id = $1`,
      [res.deviceId],
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]).toMatchObject({ user_id: alice.userId, status: 'active', reason: 'paired', serial: cert.serial.toString() });
    // the paired device can now connect with its key and certificate
    const token = await h.connect(res.deviceId, Buffer.from(res.publicKey), Buffer.from(res.privateKey));
    expect((await h.rpc('validateSession', { token })).deviceId).toBe(res.deviceId);
  });

  test('with a client-generated key and a valid signature: no secret comes back', async () => {
    const code = await newCode();
    const keys = DeviceKeyPair.generate();
    // what a person types: lower case, no dash, spaces
    const typed = ` ${code.pairCode.slice(0, 4).toLowerCase()} ${code.pairCode.slice(5)} `;
    const res = await h.rpc('claimPairing', {
      pairCode: typed, devicePublic: keys.publicKey, deviceSignature: ed25519Sign(keys.privateKey, pairClaimMessage(code.pairCode, keys.publicKey)),
    });
    expect(res.seed).toHaveLength(0);
    expect(res.privateKey).toHaveLength(0);
    expect(Buffer.from(res.publicKey).equals(keys.publicKey)).toBe(true);
    expect(certificateFromJson(parseJson(res.certificateJson)).publicKey.equals(keys.publicKey)).toBe(true);
    expect(res.user!.userId).toBe(alice.userId);
  });

  test('an invalid signature is refused and does not use the code up', async () => {
    const code = await newCode();
    const keys = DeviceKeyPair.generate();
    const other = DeviceKeyPair.generate();
    const before = await devicesOf(alice.userId);
    // signed by another key, and signed over another code
    expect(await h.refusal('claimPairing', {
      pairCode: code.pairCode, devicePublic: keys.publicKey, deviceSignature: ed25519Sign(other.privateKey, pairClaimMessage(code.pairCode, keys.publicKey)),
    })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_signature_invalid' });
    expect(await h.refusal('claimPairing', {
      pairCode: code.pairCode, devicePublic: keys.publicKey, deviceSignature: ed25519Sign(keys.privateKey, pairClaimMessage('AAAA-AAAA', keys.publicKey)),
    })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_signature_invalid' });
    expect(await h.refusal('claimPairing', { pairCode: code.pairCode, devicePublic: keys.publicKey, deviceSignature: Buffer.alloc(0) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_signature_invalid' });
    expect(await h.refusal('claimPairing', { pairCode: code.pairCode, devicePublic: Buffer.alloc(31), deviceSignature: Buffer.alloc(64) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_public_malformed' });
    expect(await h.refusal('claimPairing', { pairCode: code.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(64) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_public_malformed' });
    expect(await devicesOf(alice.userId)).toBe(before);
    await expect(serverClaim(code.pairCode)).resolves.toMatchObject({ issuerDeviceId: alice.deviceId });
  });

  test('a code works once', async () => {
    const code = await newCode();
    await serverClaim(code.pairCode);
    const before = await devicesOf(alice.userId);
    expect(await h.refusal('claimPairing', { pairCode: code.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'pair_code_redeemed' });
    expect(await devicesOf(alice.userId)).toBe(before);
  });

  test('two concurrent claims of one code: exactly one device is created', async () => {
    const code = await newCode();
    const before = await devicesOf(alice.userId);
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => serverClaim(code.pairCode)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect((o.reason as { metadata: grpc.Metadata }).metadata.get('commucat-directory-error')).toEqual(['pair_code_redeemed']);
    }
    expect(await devicesOf(alice.userId)).toBe(before + 1);
  });

  test('an expired code is refused', async () => {
    const code = await newCode();
    await h.db.pool.query("UPDATE device_pairing SET issued_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE pair_code = $1", [code.pairCode]);
    expect(await h.refusal('claimPairing', { pairCode: code.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'pair_code_expired' });
  });

  test('unknown and malformed codes', async () => {
    const claim = (pairCode: string) => h.refusal('claimPairing', { pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) });
    // 'AAAA-AAAA' is well formed; the chance that a live code matches it is negligible
    expect(await claim('AAAA-AAAA')).toEqual({ status: grpc.status.NOT_FOUND, code: 'pair_code_not_found' });
    for (const bad of ['', 'ABCD-EFG', 'ABCD-EFGHJ', 'ABCD-EFG0', 'IIII-LLLL', 'ABCD_EFGH']) {
      expect(await claim(bad)).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'pair_code_malformed' });
    }
  });

  test('a code dies with its issuer: revoking the issuer drops it, a no longer active issuer cannot be claimed through', async () => {
    const carol = await h.signUp('carol');
    const second = await serverClaim((await h.rpc('createPairing', { userId: carol.userId, issuerDeviceId: carol.deviceId, ttlSeconds: 0 })).pairCode);
    const viaSecond = await h.rpc('createPairing', { userId: carol.userId, issuerDeviceId: second.deviceId, ttlSeconds: 0 });
    await h.rpc('revokeDevice', { userId: carol.userId, callerDeviceId: carol.deviceId, deviceId: second.deviceId });
    expect(await h.refusal('claimPairing', { pairCode: viaSecond.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) }))
      .toEqual({ status: grpc.status.NOT_FOUND, code: 'pair_code_not_found' });

    const viaFirst = await h.rpc('createPairing', { userId: carol.userId, issuerDeviceId: carol.deviceId, ttlSeconds: 0 });
    await h.db.pool.query("UPDATE user_device SET status = 'diagnostic' WHERE device_id = $1", [carol.deviceId]);
    expect(await h.refusal('claimPairing', { pairCode: viaFirst.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) }))
      .toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'pair_code_issuer_revoked' });
  });
});
