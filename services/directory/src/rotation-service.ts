import type { Logger } from 'pino';
import type { Pool, PoolClient } from 'pg';
import { stringifyJson } from '@commucat/ccp1';
import { certificateToJson, ed25519Verify, randomCertificateSerial } from '@commucat/crypto';
import type { RotateDeviceKeyRequest, RotateDeviceKeyResponse } from '@commucat/contracts';
import { withTransaction } from '@commucat/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { certificateStore } from './certificate-store.js';
import { refuse } from './directory-errors.js';
import { friendStore } from './friend-store.js';
import { identityStore } from './identity-store.js';
import { keyUpdateFrame, type AppliedRotation } from './key-update-frame.js';
import type { NoticePublisher } from './notice-publisher.js';
import { randomId } from './random-id.js';
import { rotationProofDigest } from './rotation-proof.js';

/** rotation.device.* (spec rest-storage-ops §7) plus the certificate lifetime. */
export interface RotationPolicy {
  enabled: boolean;
  /** Seconds since the device's newest key event; 0 = no limit. */
  minIntervalSeconds: number;
  /** Seconds a proof's expires_at may lie ahead of now. */
  proofTtlSeconds: number;
  notifyChannel: number;
  certificateLifetimeSeconds: number;
}

/** Counts applied rotations (`commucat_device_rotations_total`, spec rest-storage-ops §9). */
export interface RotationCounter {
  inc(): void;
}

const KEY_LEN = 32;
const SIGNATURE_LEN = 64;
const MIN_NONCE_LEN = 8;

/**
 * POST /api/device/csr: a device replaces its own key with a proof signed by its current key.
 * The key, its key event and the new certificate are one transaction; the KEY_UPDATE notice for
 * the user's devices and the mutual friends' devices follows once that is committed.
 */
export class RotationService {
  constructor(
    private readonly pool: Pool,
    private readonly ca: CertificateAuthority,
    private readonly notices: NoticePublisher,
    private readonly policy: RotationPolicy,
    private readonly logger: Logger,
    private readonly counter?: RotationCounter,
  ) {}

  async rotate(req: RotateDeviceKeyRequest): Promise<RotateDeviceKeyResponse> {
    if (!this.policy.enabled) throw refuse('rotation_disabled', 'device key rotation is disabled');
    if (!req.userId) throw refuse('user_id_required', 'user_id is required');
    if (!req.deviceId) throw refuse('device_id_required', 'device_id is required');
    const newKey = Buffer.from(req.newPublicKey);
    const signature = Buffer.from(req.signature);
    const nonce = Buffer.from(req.nonce);
    this.checkProofShape(newKey, signature, nonce, req.expiresAt);

    const applied = await withTransaction(this.pool, async (db) => {
      const device = await identityStore.deviceForUpdate(db, req.deviceId);
      if (!device) throw refuse('device_not_found', 'unknown device');
      if (device.userId !== req.userId) throw refuse('device_of_other_user', 'the device belongs to another user');
      if (device.status !== 'active') throw refuse('device_not_active', `the device is ${device.status}`);
      if (device.publicKey.equals(newKey)) throw refuse('rotation_key_unchanged', 'public key unchanged');
      await this.checkInterval(db, req.deviceId);
      // Checked against the key locked above, so a concurrent rotation cannot slip in between.
      if (!ed25519Verify(device.publicKey, rotationProofDigest(req.deviceId, newKey, req.expiresAt, nonce), signature)) {
        throw refuse('rotation_signature_invalid', 'signature verification failed');
      }
      return this.apply(db, { deviceId: req.deviceId, userId: req.userId, oldPublicKey: device.publicKey, publicKey: newKey });
    });

    this.counter?.inc();
    await this.announce(applied.rotation);
    return {
      deviceId: applied.rotation.deviceId,
      userId: applied.rotation.userId,
      publicKey: applied.rotation.publicKey,
      oldPublicKey: applied.rotation.oldPublicKey,
      rotationId: applied.rotation.rotationId,
      eventId: applied.rotation.eventId,
      appliedAt: applied.appliedAt,
      proofExpiresAt: req.expiresAt,
      certificateJson: stringifyJson(certificateToJson(applied.rotation.certificate)),
    };
  }

  /** Spec §4.1 step 2: what can be judged without the database. */
  private checkProofShape(newKey: Buffer, signature: Buffer, nonce: Buffer, expiresAt: number): void {
    if (newKey.length !== KEY_LEN) throw refuse('rotation_key_malformed', 'invalid public_key');
    if (signature.length !== SIGNATURE_LEN) throw refuse('rotation_signature_malformed', 'invalid signature encoding');
    if (nonce.length > 0 && nonce.length < MIN_NONCE_LEN) throw refuse('rotation_nonce_malformed', 'invalid nonce');
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) throw refuse('rotation_proof_expired', 'proof expired');
    if (expiresAt - now > this.policy.proofTtlSeconds) throw refuse('rotation_proof_beyond_ttl', 'expires_at exceeds proof_ttl');
  }

  /** Registration and pairing events count too, so a brand-new device waits like a rotated one. */
  private async checkInterval(db: PoolClient, deviceId: string): Promise<void> {
    if (this.policy.minIntervalSeconds <= 0) return;
    const { rows } = await db.query(
      `SELECT max(recorded_at) > now() - make_interval(secs => $2::int) AS too_soon
         FROM device_key_event WHERE device_id = $1`,
      [deviceId, this.policy.minIntervalSeconds],
    );
    if (rows[0]?.too_soon === true) throw refuse('rotation_interval_not_elapsed', 'rotation interval not elapsed');
  }

  private async apply(db: PoolClient, change: { deviceId: string; userId: string; oldPublicKey: Buffer; publicKey: Buffer }): Promise<{ rotation: AppliedRotation; appliedAt: number }> {
    const rotationId = randomId();
    const eventId = randomId();
    await db.query('UPDATE user_device SET public_key = $2, updated_at = now() WHERE device_id = $1', [change.deviceId, change.publicKey]);
    await db.query("INSERT INTO device_key_event (event_id, device_id, public_key, reason) VALUES ($1, $2, $3, 'rotated')", [eventId, change.deviceId, change.publicKey]);
    // Sessions were granted to the old key (weakness §11.5: the reference kept them): the device
    // gets a new one by connecting with its new key. Its live connection stays for the KEY_UPDATE.
    await db.query('UPDATE session SET revoked_at = now() WHERE device_id = $1 AND revoked_at IS NULL', [change.deviceId]);
    const appliedAt = Date.now();
    const issuedAt = Math.floor(appliedAt / 1000);
    const certificate = await this.ca.sign({
      serial: randomCertificateSerial(), userId: change.userId, deviceId: change.deviceId, publicKey: change.publicKey,
      issuedAt, expiresAt: issuedAt + this.policy.certificateLifetimeSeconds,
    });
    await certificateStore.insert(db, certificate);
    return { rotation: { ...change, rotationId, eventId, certificate }, appliedAt };
  }

  /**
   * KEY_UPDATE to every active device of the user (the rotating one included) and of its mutual
   * friends, queued for those offline (spec §4.2's recommendation). The rotation is committed
   * already, so a failure here is logged rather than answered: the devices learn the new key
   * from its certificate on the next contact instead.
   */
  private async announce(rotation: AppliedRotation): Promise<void> {
    try {
      const own = (await identityStore.activeDeviceIds(this.pool, rotation.userId));
      const friends = await friendStore.mutualFriendDevices(this.pool, rotation.userId);
      await this.notices.publish({
        deviceIds: [...new Set([...own, ...friends])],
        frame: keyUpdateFrame(rotation, this.policy.notifyChannel),
        messageId: `keyupdate:${rotation.rotationId}`,
        channelId: this.policy.notifyChannel,
        queue: true,
      });
    } catch (err) {
      this.logger.warn({ err, deviceId: rotation.deviceId, rotationId: rotation.rotationId }, 'KEY_UPDATE notice not published; the rotation stands');
    }
  }
}
