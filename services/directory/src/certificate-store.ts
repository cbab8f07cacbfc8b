import type { PoolClient } from 'pg';
import type { DeviceCertificate } from '@commucat/crypto';

const toCert = (r: Record<string, unknown>): DeviceCertificate => ({
  serial: BigInt(r.serial as string),
  userId: r.user_id as string,
  deviceId: r.device_id as string,
  publicKey: r.public_key as Buffer,
  issuer: r.issuer as Buffer,
  issuedAt: Number(r.issued_at),
  expiresAt: Number(r.expires_at),
  signature: r.signature as Buffer,
});

/** Every certificate the CA issued, so reconnecting devices can be handed theirs again. */
export const certificateStore = {
  async insert(db: PoolClient, cert: DeviceCertificate): Promise<void> {
    await db.query(
      `INSERT INTO device_certificate (serial, device_id, user_id, public_key, issuer, issued_at, expires_at, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [cert.serial.toString(), cert.deviceId, cert.userId, cert.publicKey, cert.issuer, cert.issuedAt, cert.expiresAt, cert.signature],
    );
  },

  /** The newest certificate of this device for this key and issuer that is still valid at `validUntil`. */
  async latestValid(db: PoolClient, deviceId: string, publicKey: Buffer, issuer: Buffer, validUntil: number): Promise<DeviceCertificate | undefined> {
    const { rows } = await db.query(
      `SELECT serial::text AS serial, device_id, user_id, public_key, issuer, issued_at, expires_at, signature
         FROM device_certificate
        WHERE device_id = $1 AND public_key = $2 AND issuer = $3 AND expires_at > $4
        ORDER BY issued_at DESC LIMIT 1`,
      [deviceId, publicKey, issuer, validUntil],
    );
    return rows[0] && toCert(rows[0]);
  },
};
