import type { Pool } from 'pg';
import * as grpc from '@grpc/grpc-js';
import { ed25519Sign, signCertificate, verifyCertificate } from '@commucat/crypto';
import type {
  DeviceCa, FederationKey, NoiseKey, NoiseKeyCatalog, SecretsServiceServer, SignDeviceCertificateRequest, SignDeviceCertificateResponse,
  SignFederationEventResponse, VerifyAdminTokenResponse,
} from '@commucat/contracts';
import { GrpcStatusError } from '@commucat/service-kit';
import { matchesAnyAdminToken } from './admin-token.js';
import type { SecretStore, StoredSecret } from './secret-store.js';

// Expired Noise versions the catalogue still lists (for the key_expired answer) when the caller
// does not say how many (security.rotation.noise_max_versions).
const DEFAULT_EXPIRED_LISTED = 3;
const MAX_ADMIN_TOKEN_LEN = 512;

const noiseKeyOf = (k: StoredSecret): NoiseKey => ({
  version: k.version,
  privateKey: k.secret,
  publicKey: k.publicKey,
  validAfter: k.validAfter.getTime(),
  rotatesAt: k.rotatesAt?.getTime() ?? 0,
  expiresAt: k.expiresAt?.getTime() ?? 0,
});

const MAX_U64 = (1n << 64n) - 1n;

/** The gRPC face of secrets: key catalogue reads, CA and federation signing, admin token checks. */
export class SecretsService {
  private ca: StoredSecret | undefined;
  private federation: StoredSecret | undefined;

  constructor(private readonly pool: Pool, private readonly store: SecretStore, private readonly expiredListed = DEFAULT_EXPIRED_LISTED) {}

  /** Loads the federation signing key once; it does not rotate (peers pin it). */
  async loadFederationKey(): Promise<StoredSecret> {
    const [key] = await this.store.active(this.pool, 'federation-signing');
    if (!key) throw new Error('no federation signing key: secrets bootstrap has not run');
    this.federation = key;
    return key;
  }

  /** Loads the CA once; it does not rotate (a CA change would invalidate every certificate). */
  async loadCa(): Promise<StoredSecret> {
    const [ca] = await this.store.active(this.pool, 'device-ca');
    if (!ca) throw new Error('no device CA key: secrets bootstrap has not run');
    this.ca = ca;
    return ca;
  }

  /** Read from Postgres on every call, so every replica serves the same, current catalogue. */
  async noiseKeys(): Promise<NoiseKeyCatalog> {
    const now = new Date();
    const [keys, expired] = await Promise.all([this.store.active(this.pool, 'noise-static', now), this.store.expired(this.pool, 'noise-static', now)]);
    return { keys: keys.map(noiseKeyOf), expired: expired.slice(0, this.expiredListed).map(noiseKeyOf) };
  }

  /**
   * Read from Postgres on every call, so a rotation by any replica is seen at once by every
   * gateway. `configured` is false when no admin token exists at all.
   */
  async verifyAdminToken(token: string): Promise<VerifyAdminTokenResponse> {
    const active = await this.store.active(this.pool, 'admin-token');
    if (active.length === 0) return { ok: false, configured: false };
    if (token.length === 0 || token.length > MAX_ADMIN_TOKEN_LEN) return { ok: false, configured: true };
    return { ok: matchesAnyAdminToken(token, active.map((r) => ({ salt: r.publicKey, hash: r.secret }))), configured: true };
  }

  federationKey(): FederationKey {
    const key = this.requireFederation();
    return { publicKey: key.publicKey, version: key.version };
  }

  signFederationEvent(digest: Uint8Array): SignFederationEventResponse {
    if (digest.length === 0 || digest.length > 64) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'digest must be 1..64 bytes');
    const key = this.requireFederation();
    return { signature: ed25519Sign(key.secret, digest), publicKey: key.publicKey };
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
      verifyAdminToken: async ({ request: req }) => this.verifyAdminToken(req.token),
      getFederationKey: async () => this.federationKey(),
      signFederationEvent: async ({ request: req }) => this.signFederationEvent(req.digest),
    };
  }

  private requireFederation(): StoredSecret {
    if (!this.federation) throw new GrpcStatusError(grpc.status.UNAVAILABLE, 'federation signing key not loaded yet');
    return this.federation;
  }

  private requireCa(): StoredSecret {
    if (!this.ca) throw new GrpcStatusError(grpc.status.UNAVAILABLE, 'device CA not loaded yet');
    return this.ca;
  }
}
