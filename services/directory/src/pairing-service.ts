import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { stringifyJson } from '@commucat/ccp1';
import { DeviceKeyPair, certificateToJson, ed25519Verify, randomCertificateSerial } from '@commucat/crypto';
import type { ClaimPairingRequest, ClaimPairingResponse, CreatePairingRequest, PairingCode } from '@commucat/contracts';
import { isUniqueViolation, withTransaction } from '@commucat/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { certificateStore } from './certificate-store.js';
import { refuse } from './directory-errors.js';
import { identityStore, toProfile } from './identity-store.js';
import { generatePairCode, normalisePairCode, pairClaimMessage } from './pair-code.js';
import { randomId } from './random-id.js';

export interface PairingPolicy {
  /** limits.pairing_ttl: the default and the ceiling of a code's lifetime. */
  pairingTtlSeconds: number;
  certificateLifetimeSeconds: number;
}

const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 3600;
const ISSUE_ATTEMPTS = 16;
// The real client expects a 32-byte seed (hex32) next to the private key it derives from it.
const SERVER_SEED_LEN = 32;

interface ClaimKey {
  publicKey: Buffer;
  /** Only for server-generated keys, which the claimer must be given. */
  seed?: Buffer;
  privateKey?: Buffer;
}

/** POST /api/pair and /api/pair/claim: one-time codes that add a device to an existing user. */
export class PairingService {
  constructor(
    private readonly pool: Pool,
    private readonly ca: CertificateAuthority,
    private readonly policy: PairingPolicy,
  ) {}

  /** Spec rest-storage-ops §1.5: TTL = clamp(min(requested or pairing_ttl, pairing_ttl, 3600), 60). */
  effectiveTtl(requested: number): number {
    const wanted = requested > 0 ? requested : this.policy.pairingTtlSeconds;
    return Math.max(MIN_TTL_SECONDS, Math.min(wanted, this.policy.pairingTtlSeconds, MAX_TTL_SECONDS));
  }

  async create(req: CreatePairingRequest): Promise<PairingCode> {
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    if (!req.issuerDeviceId) throw refuse('device_id_required', 'issuer_device_id is required');
    const ttl = this.effectiveTtl(req.ttlSeconds);
    const caPublic = await this.ca.publicKey();
    for (let attempt = 1; ; attempt++) {
      const code = generatePairCode();
      try {
        // The issuer check and the insert are one statement: no code for a device revoked meanwhile.
        const { rows } = await this.pool.query(
          `INSERT INTO device_pairing (pair_code, user_id, issuer_device_id, issued_at, expires_at)
           SELECT $1, d.user_id, d.device_id, now(), now() + make_interval(secs => $4::int)
             FROM user_device d
            WHERE d.device_id = $2 AND d.user_id = $3 AND d.status = 'active'
           RETURNING issued_at, expires_at`,
          [code, req.issuerDeviceId, req.userId, ttl],
        );
        if (rows.length === 0) throw refuse('issuer_device_not_active', 'the issuing device is not an active device of this user');
        return {
          pairCode: code, issuedAt: (rows[0].issued_at as Date).getTime(), expiresAt: (rows[0].expires_at as Date).getTime(),
          ttlSeconds: ttl, issuerDeviceId: req.issuerDeviceId, deviceCaPublic: caPublic,
        };
      } catch (err) {
        // 31^8 codes: a collision with a live code is rare, sixteen in a row means something is broken.
        if (isUniqueViolation(err) && attempt < ISSUE_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  async claim(req: ClaimPairingRequest): Promise<ClaimPairingResponse> {
    const code = normalisePairCode(req.pairCode);
    if (!code) throw refuse('pair_code_malformed', 'pair_code must be 8 symbols of the pairing alphabet');
    // Checked before the code is touched, so a bad proof does not burn the code.
    const key = this.claimKey(code, Buffer.from(req.devicePublic), Buffer.from(req.deviceSignature));
    const caPublic = await this.ca.publicKey();

    return withTransaction(this.pool, async (db) => {
      const { rows } = await db.query(
        `SELECT p.user_id, p.issuer_device_id, p.redeemed_at, p.expires_at <= now() AS expired, d.status AS issuer_status
           FROM device_pairing p JOIN user_device d ON d.device_id = p.issuer_device_id
          WHERE p.pair_code = $1
          FOR UPDATE OF p`,
        [code],
      );
      const pairing = rows[0];
      if (!pairing) throw refuse('pair_code_not_found', 'unknown pairing code');
      if (pairing.redeemed_at !== null) throw refuse('pair_code_redeemed', 'pairing code already used');
      if (pairing.expired) throw refuse('pair_code_expired', 'pairing code expired');
      if (pairing.issuer_status !== 'active') throw refuse('pair_code_issuer_revoked', 'the device that issued the code is no longer active');
      const userId = pairing.user_id as string;

      const deviceId = randomId();
      await identityStore.insertDevice(db, { deviceId, userId, publicKey: key.publicKey, status: 'active' }, randomId(), 'paired');
      const now = Math.floor(Date.now() / 1000);
      const certificate = await this.ca.sign({
        serial: randomCertificateSerial(), userId, deviceId, publicKey: key.publicKey,
        issuedAt: now, expiresAt: now + this.policy.certificateLifetimeSeconds,
      });
      await certificateStore.insert(db, certificate);
      await db.query('UPDATE device_pairing SET redeemed_at = now(), redeemed_device_id = $2 WHERE pair_code = $1', [code, deviceId]);
      const user = await identityStore.userById(db, userId);
      if (!user) throw new Error('pairing owner vanished inside its transaction');

      return {
        deviceId,
        publicKey: key.publicKey,
        seed: key.seed ?? Buffer.alloc(0),
        privateKey: key.privateKey ?? Buffer.alloc(0),
        issuerDeviceId: pairing.issuer_device_id as string,
        user: toProfile(user),
        certificateJson: stringifyJson(certificateToJson(certificate)),
        deviceCaPublic: caPublic,
      };
    });
  }

  /** Expired and redeemed codes are kept a day (so a late claim hears "expired", not "unknown"). */
  async purgeStale(): Promise<number> {
    const { rowCount } = await this.pool.query(
      "DELETE FROM device_pairing WHERE expires_at < now() - interval '1 day' OR redeemed_at < now() - interval '1 day'",
    );
    return rowCount ?? 0;
  }

  /**
   * The new device's key: the client's own (weakness §11.6: its private key never leaves the
   * device; it proves possession by signing the code), or, for the real client, which expects the
   * server to generate it, a fresh seed and private = BLAKE3(seed) (ccp1-wire §5.1).
   */
  private claimKey(code: string, devicePublic: Buffer, signature: Buffer): ClaimKey {
    if (devicePublic.length === 0) {
      if (signature.length > 0) throw refuse('device_public_malformed', 'device_signature without device_public');
      const seed = randomBytes(SERVER_SEED_LEN);
      const keys = DeviceKeyPair.fromSeed(seed);
      return { publicKey: keys.publicKey, seed, privateKey: keys.privateKey };
    }
    if (devicePublic.length !== 32) throw refuse('device_public_malformed', 'device_public must be a 32-byte Ed25519 key');
    if (!ed25519Verify(devicePublic, pairClaimMessage(code, devicePublic), signature)) {
      throw refuse('device_signature_invalid', 'device_signature does not verify');
    }
    return { publicKey: devicePublic };
  }
}
