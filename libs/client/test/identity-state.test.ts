import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceKeyPair, signCertificate } from '@commucat/crypto';
import { createDeviceIdentity, loadIdentityState, saveIdentityState } from '@commucat/client';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'commucat-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('identity state file', () => {
  it('round-trips seed, profile and certificate (u64 serial exact) with mode 0600', async () => {
    const identity = createDeviceIdentity({ handle: 'alice' });
    const ca = DeviceKeyPair.generate();
    identity.userId = 'u-1';
    identity.displayName = 'Alice';
    identity.deviceCaPublic = ca.publicKey;
    identity.certificate = signCertificate(
      {
        serial: 18_446_744_073_709_551_615n,
        userId: 'u-1',
        deviceId: identity.deviceId,
        publicKey: identity.keys.publicKey,
        issuer: ca.publicKey,
        issuedAt: 1,
        expiresAt: 2,
      },
      ca.privateKey,
    );
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    await saveIdentityState(path, identity);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain('"serial":18446744073709551615');

    const loaded = await loadIdentityState(path);
    expect(loaded?.deviceId).toBe(identity.deviceId);
    expect(loaded?.keys.privateKey).toEqual(identity.keys.privateKey);
    expect(loaded?.seed).toEqual(identity.seed);
    expect(loaded?.handle).toBe('alice');
    expect(loaded?.userId).toBe('u-1');
    expect(loaded?.displayName).toBe('Alice');
    expect(loaded?.avatarUrl).toBeUndefined();
    expect(loaded?.deviceCaPublic).toEqual(ca.publicKey);
    expect(loaded?.certificate).toEqual(identity.certificate);
  });

  it('returns undefined for a missing file and StateFile errors for a malformed one or a seedless identity', async () => {
    expect(await loadIdentityState(join(dir, 'absent.json'))).toBeUndefined();
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"device_id":"d"}');
    await expect(loadIdentityState(path)).rejects.toMatchObject({ code: 'StateFile' });
    const seedless = createDeviceIdentity();
    delete seedless.seed;
    await expect(saveIdentityState(join(dir, 'x.json'), seedless)).rejects.toMatchObject({ code: 'StateFile' });
  });
});
