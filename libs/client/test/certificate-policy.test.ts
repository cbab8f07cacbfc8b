import { bytesToHex, certificateToJson, type DeviceCertificate, DeviceKeyPair, signCertificate } from '@commucat/crypto';
import { createDeviceIdentity, type DeviceIdentity, storedCertificateProblem } from '@commucat/client';
import { adoptCertificateFromAck } from '../src/certificate-policy';

const NOW = 1_760_000_000;
const ca = DeviceKeyPair.fromSeed(Buffer.alloc(32, 9));

function certificateFor(identity: DeviceIdentity, changes: Partial<DeviceCertificate> = {}, signer = ca): DeviceCertificate {
  const data = {
    serial: 2n ** 60n + 1n,
    userId: identity.userId ?? 'user-1',
    deviceId: identity.deviceId,
    publicKey: identity.keys.publicKey,
    issuer: signer.publicKey,
    issuedAt: NOW - 10,
    expiresAt: NOW + 1000,
    ...changes,
  };
  return signCertificate(data, signer.privateKey);
}

describe('storedCertificateProblem (the real client pre-connect checks, §6.4)', () => {
  const identity = createDeviceIdentity({ deviceId: 'device-a' });
  identity.userId = 'user-1';
  identity.deviceCaPublic = ca.publicKey;

  it('accepts a fitting certificate, including the issued_at skew of 300 s', () => {
    expect(storedCertificateProblem(identity, certificateFor(identity), NOW)).toBeUndefined();
    expect(storedCertificateProblem(identity, certificateFor(identity, { issuedAt: NOW + 300 }), NOW)).toBeUndefined();
    expect(storedCertificateProblem(identity, certificateFor(identity, { expiresAt: NOW }), NOW)).toBeUndefined();
  });

  it.each<[string, Partial<DeviceCertificate>, string]>([
    ['device id', { deviceId: 'device-b' }, 'another device'],
    ['public key', { publicKey: DeviceKeyPair.generate().publicKey }, 'another device key'],
    ['user', { userId: 'user-2' }, 'another user'],
    ['expiry', { expiresAt: NOW - 1 }, 'expired'],
    ['issue date', { issuedAt: NOW + 301 }, 'future'],
  ])('rejects a wrong %s', (_name, changes, problem) => {
    expect(storedCertificateProblem(identity, certificateFor(identity, changes), NOW)).toContain(problem);
  });

  it('rejects another issuer and a broken signature', () => {
    const other = DeviceKeyPair.generate();
    expect(storedCertificateProblem(identity, certificateFor(identity, {}, other), NOW)).toContain('issuer');
    const broken = certificateFor(identity);
    broken.signature[0]! ^= 1;
    expect(storedCertificateProblem(identity, broken, NOW)).toContain('signature');
    // Without a stored CA key the certificate is checked against its own issuer.
    const noCa = { ...identity, deviceCaPublic: undefined };
    delete noCa.deviceCaPublic;
    expect(storedCertificateProblem(noCa, certificateFor(identity, {}, other), NOW)).toBeUndefined();
    expect(storedCertificateProblem(noCa, broken, NOW)).toContain('signature');
  });
});

describe('adoptCertificateFromAck', () => {
  it('stores a verified certificate with its CA key, and ignores unparsable or missing ones', () => {
    const identity = createDeviceIdentity();
    const good = certificateFor(identity);
    expect(adoptCertificateFromAck(identity, { device_certificate: { serial: 1 }, device_ca_public: bytesToHex(ca.publicKey) }, NOW)).toBe(false);
    expect(adoptCertificateFromAck(identity, { device_certificate: certificateToJson(good) }, NOW)).toBe(false);
    expect(identity.certificate).toBeUndefined();
    expect(
      adoptCertificateFromAck(identity, { device_certificate: certificateToJson(good), device_ca_public: bytesToHex(ca.publicKey) }, NOW),
    ).toBe(true);
    expect(identity.certificate).toEqual(good);
    expect(identity.deviceCaPublic).toEqual(ca.publicKey);
  });

  it('keeps the old certificate when the Ack brings an expired one', () => {
    const identity = createDeviceIdentity();
    const good = certificateFor(identity);
    identity.certificate = good;
    const expired = certificateFor(identity, { expiresAt: NOW - 5, issuedAt: NOW - 100 });
    expect(
      adoptCertificateFromAck(identity, { device_certificate: certificateToJson(expired), device_ca_public: bytesToHex(ca.publicKey) }, NOW),
    ).toBe(false);
    expect(identity.certificate).toBe(good);
  });
});
