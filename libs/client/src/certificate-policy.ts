import type { JsonValue } from '@commucat/ccp1';
import { certificateFromJson, type DeviceCertificate, hexToBytes, verifyCertificate } from '@commucat/crypto';
import { ClientError } from './errors';
import type { DeviceIdentity } from './identity';

/** How far in the future `issued_at` may lie (clock skew), as in the real client and server. */
const ISSUED_AT_SKEW_SECONDS = 300;

/**
 * The real client's checks on its stored certificate before every connect (§6.4). Returns the
 * reason the certificate is unusable, or undefined when it may be presented.
 */
export function storedCertificateProblem(identity: DeviceIdentity, certificate: DeviceCertificate, nowSeconds: number): string | undefined {
  if (certificate.deviceId !== identity.deviceId) return 'certificate belongs to another device';
  if (!certificate.publicKey.equals(identity.keys.publicKey)) return 'certificate is for another device key';
  if (identity.userId !== undefined && certificate.userId !== identity.userId) return 'certificate belongs to another user';
  if (identity.deviceCaPublic !== undefined && !certificate.issuer.equals(identity.deviceCaPublic)) {
    return 'certificate issuer is not the stored device CA';
  }
  // Without a stored CA key the certificate can only be checked against the issuer it names.
  if (!verifyCertificate(certificate, identity.deviceCaPublic ?? certificate.issuer)) return 'certificate signature does not verify';
  if (nowSeconds > certificate.expiresAt) return 'certificate expired';
  if (certificate.issuedAt > nowSeconds + ISSUED_AT_SKEW_SECONDS) return 'certificate issued in the future';
  return undefined;
}

/** Like the real client, refuse to connect with a stored certificate that fails §6.4. */
export function assertStoredCertificateUsable(identity: DeviceIdentity, nowSeconds: number): void {
  if (identity.certificate === undefined) return;
  const problem = storedCertificateProblem(identity, identity.certificate, nowSeconds);
  if (problem !== undefined) throw new ClientError('InvalidCertificate', `stored device certificate unusable: ${problem}`);
}

/**
 * Reads `device_certificate` and `device_ca_public` from a handshake Ack and stores them in the
 * identity when the certificate verifies against that CA key and passes the pre-connect checks.
 * The real client stores whatever parses and then refuses to start if it is bad (§6.4); checking
 * first keeps one bad Ack from locking the device out. Returns whether the identity now holds it.
 */
export function adoptCertificateFromAck(identity: DeviceIdentity, ack: Record<string, JsonValue>, nowSeconds: number): boolean {
  const caHex = ack['device_ca_public'];
  if (typeof caHex !== 'string' || ack['device_certificate'] === undefined) return false;
  let caPublic: Buffer;
  let certificate: DeviceCertificate;
  try {
    caPublic = hexToBytes(caHex, 32);
    certificate = certificateFromJson(ack['device_certificate']);
  } catch {
    return false; // the real client also ignores a certificate it cannot parse
  }
  const candidate: DeviceIdentity = { ...identity, deviceCaPublic: caPublic };
  if (storedCertificateProblem(candidate, certificate, nowSeconds) !== undefined) return false;
  identity.certificate = certificate;
  identity.deviceCaPublic = caPublic;
  return true;
}
