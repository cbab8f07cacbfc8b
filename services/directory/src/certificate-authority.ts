import type { DeviceCertificate, DeviceCertificateData } from '@commucat/crypto';

/** Signs device certificates; implemented over gRPC by secrets, which keeps the CA key. */
export interface CertificateAuthority {
  /** The CA public key (the `issuer` of every certificate). */
  publicKey(): Promise<Buffer>;
  sign(data: Omit<DeviceCertificateData, 'issuer'>): Promise<DeviceCertificate>;
}
