import { SecretsServiceClient } from '@commucat/contracts';
import { callUnary } from '@commucat/service-kit';
import type { DeviceCertificate, DeviceCertificateData } from '@commucat/crypto';
import type { CertificateAuthority } from './certificate-authority.js';

/** The CA as secrets serves it: the public key is cached, signing is a gRPC call. */
export class SecretsCertificateAuthority implements CertificateAuthority {
  private caPublic: Promise<Buffer> | undefined;

  constructor(private readonly client: SecretsServiceClient, private readonly deadlineMs = 5000) {}

  publicKey(): Promise<Buffer> {
    this.caPublic ??= callUnary(this.client, 'getDeviceCa', {}, { deadlineMs: this.deadlineMs, waitForReady: true }).then(
      (ca) => Buffer.from(ca.publicKey),
      (err: unknown) => {
        this.caPublic = undefined; // retry on the next Hello rather than caching a failure
        throw err;
      },
    );
    return this.caPublic;
  }

  async sign(data: Omit<DeviceCertificateData, 'issuer'>): Promise<DeviceCertificate> {
    const res = await callUnary(this.client, 'signDeviceCertificate', {
      serial: data.serial.toString(), userId: data.userId, deviceId: data.deviceId,
      publicKey: data.publicKey, issuedAt: data.issuedAt, expiresAt: data.expiresAt,
    }, { deadlineMs: this.deadlineMs, waitForReady: true });
    return { ...data, issuer: Buffer.from(res.issuer), signature: Buffer.from(res.signature) };
  }
}
