import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connectBus } from '@commucat/bus';
import { FrameType, decodeFrame, parseJson, type JsonValue } from '@commucat/ccp1';
import {
  DeviceKeyPair, certificateFromJson, certificateToJson, ed25519Sign, verifyCertificate, x25519PublicKey,
  type DeviceCertificate, type DeviceCertificateData,
} from '@commucat/crypto';
import { HelloVerdict, type Notice, type RotateDeviceKeyRequest } from '@commucat/contracts';
import { stackEnv } from '../../../tests/support/stack-env';
import type { CertificateAuthority } from '../src/certificate-authority';
import { DirectoryError } from '../src/directory-errors';
import { RouterNoticePublisher } from '@commucat/bus';
import { rotationProofDigest } from '../src/rotation-proof';
import { RotationService } from '../src/rotation-service';
import { DirectoryHarness, ROTATION, silentLogger, type SignedUp } from './support/directory-harness';

const h = new DirectoryHarness();

beforeAll(() => h.start('dirrot'));
afterAll(() => h.stop());

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

interface Device {
  userId: string;
  deviceId: string;
  keys: DeviceKeyPair;
}

/** A rotation request for `device` to `next`, signed by `signer` (its current key unless a test says otherwise). */
function proof(device: Device, next: DeviceKeyPair, opts: { expiresAt?: number; nonce?: Buffer; signer?: DeviceKeyPair; signedExpiresAt?: number } = {}): RotateDeviceKeyRequest {
  const expiresAt = opts.expiresAt ?? nowSeconds() + 300;
  const nonce = opts.nonce ?? Buffer.alloc(0);
  const digest = rotationProofDigest(device.deviceId, next.publicKey, opts.signedExpiresAt ?? expiresAt, nonce);
  return {
    userId: device.userId, deviceId: device.deviceId, newPublicKey: next.publicKey,
    signature: ed25519Sign((opts.signer ?? device.keys).privateKey, digest), expiresAt, nonce,
  };
}

/** A second device of `user`, added by pairing with a client-side key. */
async function pairedDevice(user: SignedUp): Promise<Device> {
  const code = await h.rpc('createPairing', { userId: user.userId, issuerDeviceId: user.deviceId, ttlSeconds: 0 });
  const claimed = await h.rpc('claimPairing', { pairCode: code.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) });
  return { userId: user.userId, deviceId: claimed.deviceId, keys: DeviceKeyPair.fromSeed(Buffer.from(claimed.seed)) };
}

async function befriend(a: SignedUp, b: SignedUp): Promise<void> {
  await h.rpc('putFriends', { userId: a.userId, friends: [{ userId: b.userId }] });
  await h.rpc('putFriends', { userId: b.userId, friends: [{ userId: a.userId }] });
}

async function hello(device: Device, keys: DeviceKeyPair): Promise<HelloVerdict> {
  const res = await h.authorizer().authorize({ deviceId: device.deviceId, devicePublic: keys.publicKey, clientStatic: x25519PublicKey(keys.privateKey) });
  return res.verdict;
}

async function deviceState(deviceId: string): Promise<{ key: string; events: number; certificates: number }> {
  const { rows } = await h.db.pool.query(
    `SELECT encode(public_key, 'hex') AS key,
            (SELECT count(*)::int FROM device_key_event e WHERE e.device_id = d.device_id) AS events,
            (SELECT count(*)::int FROM device_certificate c WHERE c.device_id = d.device_id) AS certificates
       FROM user_device d WHERE device_id = $1`,
    [deviceId],
  );
  return rows[0];
}

const noticeFor = (rotationId: string): Promise<Notice> => h.waitFor(() => h.notices.find((n) => n.messageId === `keyupdate:${rotationId}`));

describe('RotateDeviceKey', () => {
  test('replaces the key, records the event, issues a certificate, and announces KEY_UPDATE to own and mutual friends\' devices', async () => {
    const alice = await h.signUp('alice');
    const tablet = await pairedDevice(alice);
    const gone = await pairedDevice(alice);
    await h.rpc('revokeDevice', { userId: alice.userId, callerDeviceId: alice.deviceId, deviceId: gone.deviceId });
    const bob = await h.signUp('bob');
    const bobPhone = await pairedDevice(bob);
    await befriend(alice, bob);
    const carol = await h.signUp('carol'); // lists alice; alice does not list carol
    await h.rpc('putFriends', { userId: carol.userId, friends: [{ userId: alice.userId }] });

    const next = DeviceKeyPair.generate();
    const nonce = randomBytes(16);
    const expiresAt = nowSeconds() + 300;
    const before = Date.now();
    const counted = h.rotationsCounted;
    const res = await h.rpc('rotateDeviceKey', proof(alice, next, { nonce, expiresAt }));
    expect(h.rotationsCounted).toBe(counted + 1);

    expect(res).toMatchObject({ deviceId: alice.deviceId, userId: alice.userId, proofExpiresAt: expiresAt });
    expect(Buffer.from(res.publicKey).equals(next.publicKey)).toBe(true);
    expect(Buffer.from(res.oldPublicKey).equals(alice.keys.publicKey)).toBe(true);
    expect(res.rotationId).toMatch(/^[0-9a-f]{64}$/);
    expect(res.eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(res.appliedAt).toBeGreaterThanOrEqual(before);
    expect(res.appliedAt).toBeLessThanOrEqual(Date.now());

    const certificate = certificateFromJson(parseJson(res.certificateJson));
    expect(verifyCertificate(certificate, h.ca.keys.publicKey)).toBe(true);
    expect(certificate).toMatchObject({ userId: alice.userId, deviceId: alice.deviceId, expiresAt: certificate.issuedAt + ROTATION.certificateLifetimeSeconds });
    expect(certificate.publicKey.equals(next.publicKey)).toBe(true);

    const stored = await h.db.pool.query('SELECT public_key FROM user_device WHERE device_id = $1', [alice.deviceId]);
    expect((stored.rows[0].public_key as Buffer).equals(next.publicKey)).toBe(true);
    const event = await h.db.pool.query('SELECT device_id, public_key, reason FROM device_key_event WHERE event_id = $1', [res.eventId]);
    expect(event.rows).toEqual([{ device_id: alice.deviceId, public_key: next.publicKey, reason: 'rotated' }]);
    const certs = await h.db.pool.query('SELECT 1 FROM device_certificate WHERE serial = $1::numeric AND public_key = $2', [certificate.serial.toString(), next.publicKey]);
    expect(certs.rowCount).toBe(1);

    const notice = await noticeFor(res.rotationId);
    expect(notice.queue).toBe(true);
    expect(notice.channelId).toBe(ROTATION.notifyChannel);
    expect([...notice.deviceIds].sort()).toEqual([alice.deviceId, tablet.deviceId, bob.deviceId, bobPhone.deviceId].sort());

    const { frame } = decodeFrame(notice.frame);
    expect(frame.type).toBe(FrameType.KeyUpdate);
    expect(frame.channel).toBe(ROTATION.notifyChannel);
    if (frame.payload.kind !== 'control') throw new Error('KEY_UPDATE must carry JSON');
    const payload = frame.payload.value as Record<string, JsonValue>;
    expect(Object.keys(payload).sort()).toEqual([
      'certificate', 'device_id', 'event_id', 'expires_at', 'issued_at', 'old_public_key', 'public_key', 'rotation_id', 'type', 'user_id',
    ]);
    expect(payload).toMatchObject({
      type: 'device-key-rotated', device_id: alice.deviceId, user_id: alice.userId,
      public_key: next.publicKey.toString('hex'), old_public_key: alice.keys.publicKey.toString('hex'),
      rotation_id: res.rotationId, event_id: res.eventId, issued_at: certificate.issuedAt, expires_at: certificate.expiresAt,
    });
    // The certificate object is lossless: it parses back to exactly the issued one and still verifies.
    expect(certificateFromJson(payload.certificate)).toEqual(certificate);
    expect(payload.certificate).toEqual(certificateToJson(certificate));
  });

  test('afterwards the old key is refused at Hello and the new one accepted', async () => {
    const dave = await h.signUp('dave');
    const next = DeviceKeyPair.generate();
    await h.rpc('rotateDeviceKey', proof(dave, next));
    expect(await hello(dave, dave.keys)).toBe(HelloVerdict.HELLO_VERDICT_INVALID);
    expect(await hello(dave, next)).toBe(HelloVerdict.HELLO_VERDICT_AUTHORIZED);
  });

  test('revokes the REST sessions granted to the old key, and only those (weakness §11.5)', async () => {
    const carol = await h.signUp('carol');
    const other = await h.signUp('carol-other');
    await h.rpc('rotateDeviceKey', proof(carol, DeviceKeyPair.generate()));
    expect(await h.refusal('validateSession', { token: carol.token })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
    expect((await h.rpc('validateSession', { token: other.token })).deviceId).toBe(other.deviceId);
  });

  test('refuses proofs that are expired, reach beyond proof_ttl, are malformed or do not verify', async () => {
    const erin = await h.signUp('erin');
    const next = DeviceKeyPair.generate();
    const now = nowSeconds();
    const invalid = (code: string) => ({ status: grpc.status.INVALID_ARGUMENT, code });
    const counted = h.rotationsCounted;
    expect(await h.refusal('rotateDeviceKey', proof(erin, next, { expiresAt: now - 1 }))).toEqual(invalid('rotation_proof_expired'));
    expect(await h.refusal('rotateDeviceKey', proof(erin, next, { expiresAt: now }))).toEqual(invalid('rotation_proof_expired'));
    expect(await h.refusal('rotateDeviceKey', proof(erin, next, { expiresAt: now + ROTATION.proofTtlSeconds + 60 }))).toEqual(invalid('rotation_proof_beyond_ttl'));
    expect(await h.refusal('rotateDeviceKey', proof(erin, next, { signer: next }))).toEqual(invalid('rotation_signature_invalid'));
    expect(await h.refusal('rotateDeviceKey', proof(erin, next, { signedExpiresAt: now + 100, expiresAt: now + 200 }))).toEqual(invalid('rotation_signature_invalid'));
    const signedWithNonce = proof(erin, next, { nonce: randomBytes(8) });
    expect(await h.refusal('rotateDeviceKey', { ...signedWithNonce, nonce: randomBytes(8) })).toEqual(invalid('rotation_signature_invalid'));
    expect(await h.refusal('rotateDeviceKey', { ...proof(erin, next), newPublicKey: next.publicKey.subarray(0, 31) })).toEqual(invalid('rotation_key_malformed'));
    expect(await h.refusal('rotateDeviceKey', { ...proof(erin, next), signature: Buffer.alloc(63) })).toEqual(invalid('rotation_signature_malformed'));
    expect(await h.refusal('rotateDeviceKey', proof(erin, next, { nonce: randomBytes(7) }))).toEqual(invalid('rotation_nonce_malformed'));

    expect((await deviceState(erin.deviceId)).key).toBe(erin.keys.publicKey.toString('hex'));
    expect(h.rotationsCounted).toBe(counted); // refusals are not counted
    // The one with an 8-byte nonce signed over it goes through.
    await h.rpc('rotateDeviceKey', signedWithNonce);
    expect((await deviceState(erin.deviceId)).key).toBe(next.publicKey.toString('hex'));
  });

  test('an unchanged key is FAILED_PRECONDITION', async () => {
    const frank = await h.signUp('frank');
    expect(await h.refusal('rotateDeviceKey', proof(frank, frank.keys))).toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'rotation_key_unchanged' });
  });

  test('only the owner of an active device may rotate it', async () => {
    const gina = await h.signUp('gina');
    const mallory = await h.signUp('mallory');
    const next = DeviceKeyPair.generate();
    // Mallory's session names her user; the device is Gina's (even with a proof by Gina's key).
    expect(await h.refusal('rotateDeviceKey', { ...proof(gina, next), userId: mallory.userId })).toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'device_of_other_user' });

    const spare = await pairedDevice(gina);
    await h.rpc('revokeDevice', { userId: gina.userId, callerDeviceId: gina.deviceId, deviceId: spare.deviceId });
    expect(await h.refusal('rotateDeviceKey', proof(spare, next))).toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'device_not_active' });
    expect(await h.refusal('rotateDeviceKey', { ...proof(gina, next), deviceId: 'no-such-device' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'device_not_found' });
    expect((await deviceState(gina.deviceId)).key).toBe(gina.keys.publicKey.toString('hex'));
  });

  test('two proofs from the same old key race: one applies, the other no longer verifies', async () => {
    const hank = await h.signUp('hank');
    const [first, second] = [DeviceKeyPair.generate(), DeviceKeyPair.generate()];
    const outcomes = await Promise.allSettled([h.rpc('rotateDeviceKey', proof(hank, first)), h.rpc('rotateDeviceKey', proof(hank, second))]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason.code).toBe(grpc.status.INVALID_ARGUMENT);
    const state = await deviceState(hank.deviceId);
    expect([first.publicKey.toString('hex'), second.publicKey.toString('hex')]).toContain(state.key);
    expect(state.events).toBe(2); // registration + the one rotation
  });
});

describe('RotationService', () => {
  const service = (overrides: Partial<typeof ROTATION> = {}, ca: CertificateAuthority = h.ca, notices = new RouterNoticePublisher(h.bus)) =>
    new RotationService(h.db.pool, ca, notices, { ...ROTATION, ...overrides }, silentLogger);

  const refusalOf = async (work: Promise<unknown>): Promise<string> => {
    const err = await work.then(() => undefined, (e: unknown) => e);
    if (!(err instanceof DirectoryError)) throw new Error(`expected a DirectoryError, got ${String(err)}`);
    return err.code;
  };

  test('min_interval counts from the newest key event, registration included', async () => {
    const ivan = await h.signUp('ivan');
    const strict = service({ minIntervalSeconds: 3600 });
    expect(await refusalOf(strict.rotate(proof(ivan, DeviceKeyPair.generate())))).toBe('rotation_interval_not_elapsed');
    await h.db.pool.query("UPDATE device_key_event SET recorded_at = now() - interval '2 hours' WHERE device_id = $1", [ivan.deviceId]);
    const next = DeviceKeyPair.generate();
    await strict.rotate(proof(ivan, next));
    // The rotation itself is the newest event now.
    expect(await refusalOf(strict.rotate(proof({ ...ivan, keys: next }, DeviceKeyPair.generate())))).toBe('rotation_interval_not_elapsed');
  });

  test('disabled rotation is refused as NOT_FOUND', async () => {
    const jane = await h.signUp('jane');
    expect(await refusalOf(service({ enabled: false }).rotate(proof(jane, DeviceKeyPair.generate())))).toBe('rotation_disabled');
  });

  test('is atomic: a CA failure leaves key, key events and certificates untouched', async () => {
    const kate = await h.signUp('kate');
    const before = await deviceState(kate.deviceId);
    const broken: CertificateAuthority = {
      publicKey: () => h.ca.publicKey(),
      sign: async (_data: Omit<DeviceCertificateData, 'issuer'>): Promise<DeviceCertificate> => { throw new Error('CA unavailable'); },
    };
    await expect(service({}, broken).rotate(proof(kate, DeviceKeyPair.generate()))).rejects.toThrow('CA unavailable');
    expect(await deviceState(kate.deviceId)).toEqual(before);
  });

  test('a notice that cannot be published is logged; the committed rotation stands', async () => {
    const leo = await h.signUp('leo');
    const closed = await connectBus({ servers: stackEnv().natsUrl, name: 'dirrot-closed' });
    await closed.close();
    const next = DeviceKeyPair.generate();
    const res = await service({}, h.ca, new RouterNoticePublisher(closed)).rotate(proof(leo, next));
    expect(Buffer.from(res.publicKey).equals(next.publicKey)).toBe(true);
    expect(await deviceState(leo.deviceId)).toMatchObject({ key: next.publicKey.toString('hex'), events: 2 });
  });
});
