import type { Pool, PoolClient } from 'pg';
import { openSecret, sealSecret, SEALING } from './sealing.js';

export type SecretName = 'noise-static' | 'device-ca';

export interface StoredSecret {
  name: SecretName;
  version: number;
  secret: Buffer;
  publicKey: Buffer;
  validAfter: Date;
  rotatesAt: Date | null;
  expiresAt: Date | null;
}

export interface NewSecret {
  secret: Uint8Array;
  publicKey: Uint8Array;
  validAfter: Date;
  rotatesAt: Date | null;
  expiresAt: Date | null;
}

const aadOf = (name: string, version: number): string => `server_secret:${name}:${version}`;

type Queryable = Pool | PoolClient;

/** Versioned key material in `server_secret`, sealed with the KEK. */
export class SecretStore {
  constructor(private readonly kek: Buffer) {}

  /** Active versions (valid now, not expired), newest first. */
  async active(db: Queryable, name: SecretName, now = new Date()): Promise<StoredSecret[]> {
    const { rows } = await db.query(
      `SELECT version, secret, public, valid_after, rotates_at, expires_at
         FROM server_secret
        WHERE name = $1 AND valid_after <= $2 AND (expires_at IS NULL OR expires_at > $2)
        ORDER BY version DESC`,
      [name, now],
    );
    return rows.map((row) => ({
      name,
      version: row.version as number,
      secret: openSecret(this.kek, aadOf(name, row.version), row.secret as Buffer),
      publicKey: row.public as Buffer,
      validAfter: row.valid_after as Date,
      rotatesAt: row.rotates_at as Date | null,
      expiresAt: row.expires_at as Date | null,
    }));
  }

  /** Inserts the next version; the caller holds the bootstrap lock, so max+1 cannot race. */
  async insertNext(db: PoolClient, name: SecretName, value: NewSecret): Promise<number> {
    const { rows } = await db.query('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM server_secret WHERE name = $1', [name]);
    const version = rows[0].next as number;
    await db.query(
      `INSERT INTO server_secret (name, version, secret, public, sealing, valid_after, rotates_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [name, version, sealSecret(this.kek, aadOf(name, version), value.secret), Buffer.from(value.publicKey), SEALING, value.validAfter, value.rotatesAt, value.expiresAt],
    );
    return version;
  }
}
