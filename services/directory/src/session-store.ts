import { createHash, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

export interface SessionGrant {
  token: string;
  expiresAt: Date;
}

export interface ValidSession {
  userId: string;
  deviceId: string;
  expiresAt: Date;
}

// Tokens are 32 CSPRNG bytes in hex (64 characters, the shape clients already know); only their
// SHA-256 is stored, so a database leak yields no usable bearer token.
const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export const sessionStore = {
  async create(db: PoolClient, userId: string, deviceId: string, ttlSeconds: number): Promise<SessionGrant> {
    const token = randomBytes(32).toString('hex');
    const { rows } = await db.query(
      `INSERT INTO session (token_hash, user_id, device_id, ttl_seconds, expires_at)
       VALUES ($1, $2, $3, $4::int, now() + make_interval(secs => $4::int)) RETURNING expires_at`,
      [hashToken(token), userId, deviceId, ttlSeconds],
    );
    return { token, expiresAt: rows[0].expires_at as Date };
  },

  /** Valid = known, not revoked, not expired, device still active. Each use slides the expiry. */
  async validateAndSlide(db: Pool, token: string): Promise<ValidSession | undefined> {
    const { rows } = await db.query(
      `UPDATE session s
          SET last_used_at = now(), expires_at = now() + make_interval(secs => s.ttl_seconds)
         FROM user_device d
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
          AND d.device_id = s.device_id AND d.status = 'active'
        RETURNING s.user_id, s.device_id, s.expires_at`,
      [hashToken(token)],
    );
    const r = rows[0];
    return r && { userId: r.user_id, deviceId: r.device_id, expiresAt: r.expires_at };
  },

  /** Expired and revoked rows are kept a day for audit, then deleted. */
  async purgeExpired(db: Pool): Promise<number> {
    const { rowCount } = await db.query(
      "DELETE FROM session WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'",
    );
    return rowCount ?? 0;
  },
};
