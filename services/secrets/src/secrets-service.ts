import type { Pool } from 'pg';
import * as grpc from '@grpc/grpc-js';
import { signCertificate, verifyCertificate } from '@commucat/crypto';
import type {
  DeviceCa, NoiseKeyCatalog, SecretsServiceServer, SignDeviceCertificateRequest, SignDeviceCertificateResponse,
} from '@commucat/contracts';
import { GrpcStatusError } from '@commucat/service-kit';
import type { SecretStore, StoredSecret } from './secret-store.js';

const MAX_U64 = (1n << 64n) - 1n;

/** The gRPC face of secrets: key catalogue reads and CA signing. */
export class SecretsService {
  private ca: StoredSecret | undefined;

  constructor(private readonly pool: Pool, private readonly store: SecretStore) {}

  /** Loads the CA once; it does not rotate (a CA change would invalidate every certificate). */
  async loadCa(): Promise<StoredSecret> {
    const [ca] = await this.store.active(this.pool, 'device-ca');
    if (!ca) throw new Error('no device CA key: secrets bootstrap has not run');
    this.ca = ca;
    return ca;
  }

  /** Read from Postgres on every call, so every replica serves the same, current catalogue. */
  async noiseKeys(): Promise<NoiseKeyCatalog> {
    const keys = await this.store.active(this.pool, 'noise-static');
    return {
      keys: keys.map((k) => ({
        version: k.version,
        privateKey: k.secret,
        publicKey: k.publicKey,
        validAfter: k.validAfter.getTime(),
        rotatesAt: k.rotatesAt?.getTime() ?? 0,
        expiresAt: k.expiresAt?.getTime() ?? 0,
      })),
    };
  }

  deviceCa(): DeviceCa {
    return { publicKey: this.requireCa().publicKey };
  }

  sign(req: SignDeviceCertificateRequest): SignDeviceCertificateResponse {
    if (!/^\d{1,20}$/.test(req.serial) || BigInt(req.serial) > MAX_U64) {
      throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'serial must be a u64 in decimal');
    }
    if (req.publicKey.length !== 32) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'public_key must be 32 bytes');
    if (!req.userId || !req.deviceId) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'user_id and device_id are required');
    if (req.issuedAt >= req.expiresAt) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'issued_at must precede expires_at');
    const ca = this.requireCa();
    const cert = signCertificate(
      {
        serial: BigInt(req.serial), userId: req.userId, deviceId: req.deviceId, publicKey: Buffer.from(req.publicKey),
        issuer: ca.publicKey, issuedAt: req.issuedAt, expiresAt: req.expiresAt,
      },
      ca.secret,
    );
    // Cheap self-check: a CA row that does not match its public key must never sign.
    if (!verifyCertificate(cert, ca.publicKey)) throw new Error('device CA key pair is inconsistent');
    return { issuer: ca.publicKey, signature: cert.signature };
  }

  handlers(): SecretsServiceServer {
    return {
      getNoiseKeys: async () => this.noiseKeys(),
      getDeviceCa: async () => this.deviceCa(),
      signDeviceCertificate: async ({ request: req }) => this.sign(req),
    };
  }

  private requireCa(): StoredSecret {
    if (!this.ca) throw new GrpcStatusError(grpc.status.UNAVAILABLE, 'device CA not loaded yet');
    return this.ca;
  }
}
