import * as grpc from '@grpc/grpc-js';
import { DirectoryHarness, type SignedUp } from './support/directory-harness';

const h = new DirectoryHarness();

beforeAll(() => h.start('dirdev'));
afterAll(() => h.stop());

/** A user with a first device (signed up) and a second one added by pairing, both with sessions. */
async function userWithTwoDevices(name: string): Promise<{ user: SignedUp; second: { deviceId: string; token: string; publicKey: Buffer; privateKey: Buffer } }> {
  const user = await h.signUp(name);
  const code = await h.rpc('createPairing', { userId: user.userId, issuerDeviceId: user.deviceId, ttlSeconds: 0 });
  const claimed = await h.rpc('claimPairing', { pairCode: code.pairCode, devicePublic: Buffer.alloc(0), deviceSignature: Buffer.alloc(0) });
  const publicKey = Buffer.from(claimed.publicKey);
  const privateKey = Buffer.from(claimed.privateKey);
  const token = await h.connect(claimed.deviceId, publicKey, privateKey);
  return { user, second: { deviceId: claimed.deviceId, token, publicKey, privateKey } };
}

describe('ValidateSession', () => {
  test('a live token names its user and device and slides its expiry', async () => {
    const alice = await h.signUp('alice');
    await h.db.pool.query("UPDATE session SET expires_at = now() + interval '1 minute' WHERE user_id = $1", [alice.userId]);
    const res = await h.rpc('validateSession', { token: alice.token });
    expect(res).toMatchObject({ userId: alice.userId, deviceId: alice.deviceId });
    expect(res.expiresAt - Date.now()).toBeGreaterThan(3000_000);
  });

  test('unknown, empty and expired tokens are UNAUTHENTICATED', async () => {
    const alice = await h.signUp('alice');
    expect(await h.refusal('validateSession', { token: 'f'.repeat(64) })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
    expect(await h.refusal('validateSession', { token: '' })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
    await h.db.pool.query("UPDATE session SET expires_at = now() - interval '1 second' WHERE user_id = $1", [alice.userId]);
    expect(await h.refusal('validateSession', { token: alice.token })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
  });
});

describe('ListDevices', () => {
  test('every device of the user, oldest first, with the current one marked and its last key event', async () => {
    const { user, second } = await userWithTwoDevices('lister');
    await h.rpc('revokeDevice', { userId: user.userId, callerDeviceId: user.deviceId, deviceId: second.deviceId });
    const { devices } = await h.rpc('listDevices', { userId: user.userId, currentDeviceId: user.deviceId });
    expect(devices.map((d) => [d.deviceId, d.status, d.current])).toEqual([
      [user.deviceId, 'active', true],
      [second.deviceId, 'revoked', false],
    ]);
    expect(Buffer.from(devices[0]!.publicKey).equals(user.keys.publicKey)).toBe(true);
    expect(devices[0]!.createdAt).toBeLessThanOrEqual(devices[1]!.createdAt);
    const newest = (await h.db.pool.query('SELECT max(recorded_at) AS t FROM device_key_event WHERE device_id = $1', [second.deviceId])).rows[0].t as Date;
    expect(devices[1]!.lastRotatedAt).toBe(newest.getTime());
  });

  test('needs a known user', async () => {
    expect(await h.refusal('listDevices', { userId: '', currentDeviceId: '' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'user_id_required' });
    expect(await h.refusal('listDevices', { userId: 'nobody', currentDeviceId: '' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
  });
});

describe('RevokeDevice', () => {
  test('revokes the device and its sessions, announces it on the bus, and its sessions are refused afterwards', async () => {
    const { user, second } = await userWithTwoDevices('revoker');
    const extra = await h.connect(second.deviceId, second.publicKey, second.privateKey);
    expect((await h.rpc('validateSession', { token: second.token })).deviceId).toBe(second.deviceId);

    const res = await h.rpc('revokeDevice', { userId: user.userId, callerDeviceId: user.deviceId, deviceId: ` ${second.deviceId} ` });
    expect(res).toEqual({ deviceId: second.deviceId, status: 'revoked', sessionsRevoked: 2 });

    const event = await h.waitFor(() => h.revocations.find((e) => e.deviceId === second.deviceId));
    expect(event.userId).toBe(user.userId);
    expect(Math.abs(event.at - Date.now())).toBeLessThan(10_000);

    for (const token of [second.token, extra]) {
      expect(await h.refusal('validateSession', { token })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
    }
    const revokedAt = await h.db.pool.query('SELECT count(*)::int AS n FROM session WHERE device_id = $1 AND revoked_at IS NOT NULL', [second.deviceId]);
    expect(revokedAt.rows[0].n).toBe(2);
    // the caller's own session is untouched
    expect((await h.rpc('validateSession', { token: user.token })).deviceId).toBe(user.deviceId);
  });

  test('even if its status were active again, a revoked session stays refused', async () => {
    const { user, second } = await userWithTwoDevices('revoked-session');
    await h.rpc('revokeDevice', { userId: user.userId, callerDeviceId: user.deviceId, deviceId: second.deviceId });
    await h.db.pool.query("UPDATE user_device SET status = 'active' WHERE device_id = $1", [second.deviceId]);
    expect(await h.refusal('validateSession', { token: second.token })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
  });

  test('own current device, unknown device, another user\'s device', async () => {
    const { user, second } = await userWithTwoDevices('refused');
    const mallory = await h.signUp('mallory');
    expect(await h.refusal('revokeDevice', { userId: user.userId, callerDeviceId: user.deviceId, deviceId: user.deviceId }))
      .toEqual({ status: grpc.status.FAILED_PRECONDITION, code: 'cannot_revoke_current_device' });
    expect(await h.refusal('revokeDevice', { userId: user.userId, callerDeviceId: user.deviceId, deviceId: 'no-such-device' }))
      .toEqual({ status: grpc.status.NOT_FOUND, code: 'device_not_found' });
    expect(await h.refusal('revokeDevice', { userId: mallory.userId, callerDeviceId: mallory.deviceId, deviceId: second.deviceId }))
      .toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'device_of_other_user' });
    expect(await h.refusal('revokeDevice', { userId: user.userId, callerDeviceId: user.deviceId, deviceId: '  ' }))
      .toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'device_id_required' });
    const status = await h.db.pool.query('SELECT status FROM user_device WHERE device_id = ANY($1)', [[user.deviceId, second.deviceId]]);
    expect(status.rows.map((r) => r.status)).toEqual(['active', 'active']);
    expect(h.revocations.some((e) => e.deviceId === second.deviceId || e.deviceId === user.deviceId)).toBe(false);
  });

  test('the operator (empty user id) may revoke any device, and revoking again succeeds', async () => {
    const dave = await h.signUp('dave');
    const first = await h.rpc('revokeDevice', { userId: '', callerDeviceId: '', deviceId: dave.deviceId });
    expect(first).toEqual({ deviceId: dave.deviceId, status: 'revoked', sessionsRevoked: 1 });
    const again = await h.rpc('revokeDevice', { userId: '', callerDeviceId: '', deviceId: dave.deviceId });
    expect(again).toEqual({ deviceId: dave.deviceId, status: 'revoked', sessionsRevoked: 0 });
    await h.waitFor(() => (h.revocations.filter((e) => e.deviceId === dave.deviceId).length === 2 ? true : undefined));
    expect(await h.refusal('validateSession', { token: dave.token })).toEqual({ status: grpc.status.UNAUTHENTICATED, code: 'session_invalid' });
  });
});

describe('RevokeSessions', () => {
  test('by device or by user; the device itself stays active', async () => {
    const { user, second } = await userWithTwoDevices('sessions');
    expect(await h.rpc('revokeSessions', { deviceId: second.deviceId, userId: '' })).toEqual({ revoked: 1 });
    expect(await h.refusal('validateSession', { token: second.token })).toMatchObject({ code: 'session_invalid' });
    expect((await h.rpc('validateSession', { token: user.token })).userId).toBe(user.userId);
    expect(await h.rpc('revokeSessions', { deviceId: '', userId: user.userId })).toEqual({ revoked: 1 });
    expect(await h.refusal('validateSession', { token: user.token })).toMatchObject({ code: 'session_invalid' });
    expect(await h.rpc('revokeSessions', { deviceId: '', userId: user.userId })).toEqual({ revoked: 0 });
    const status = await h.db.pool.query('SELECT status FROM user_device WHERE user_id = $1', [user.userId]);
    expect(status.rows.map((r) => r.status)).toEqual(['active', 'active']);
    // a new Hello gives the device a working session again
    expect((await h.rpc('validateSession', { token: await h.connect(user.deviceId, user.keys.publicKey, user.keys.privateKey) })).userId).toBe(user.userId);
  });

  test('exactly one target, and it must exist', async () => {
    expect(await h.refusal('revokeSessions', { deviceId: '', userId: '' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'revoke_target_ambiguous' });
    expect(await h.refusal('revokeSessions', { deviceId: 'x', userId: 'y' })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'revoke_target_ambiguous' });
    expect(await h.refusal('revokeSessions', { deviceId: 'no-such-device', userId: '' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'device_not_found' });
    expect(await h.refusal('revokeSessions', { deviceId: '', userId: 'nobody' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
  });
});
