import type { Pool, PoolClient } from 'pg';
import { openSecret, sealSecret, SEALING } from './sealing.js';

/**
 * Every secret kind secrets keeps. `device-ca` and `federation-signing` are different Ed25519 keys
 * (spec §11.11); `admin-token` rows hold a sealed salted hash, never the token.
 */
export type SecretName = 'noise-static' | 'device-ca' | 'federation-signing' | 'admin-token';

export interface StoredSecret {
  name: SecretName;
  version: number;
  /** Opened with the KEK: a private key, or for admin-token the salted hash. */
  secret: Buffer;
  /** The public key, or for admin-token the salt. */
  publicKey: Buffer;
  validAfter: Date;
  rotatesAt: Date | null;
  expiresAt: Date | null;
  createdBy: string | null;
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

const COLUMNS = 'version, secret, public, valid_after, rotates_at, expires_at, created_by';

/** Versioned key material in `server_secret`, sealed with the KEK. */
export class SecretStore {
  constructor(private readonly kek: Buffer, private readonly replicaId: string | null = null) {}

  /** Active versions (valid now, not expired), newest first. */
  async active(db: Queryable, name: SecretName, now = new Date()): Promise<StoredSecret[]> {
    const { rows } = await db.query(
      `SELECT ${COLUMNS} FROM server_secret
        WHERE name = $1 AND valid_after <= $2 AND (expires_at IS NULL OR expires_at > $2)
        ORDER BY version DESC`,
      [name, now],
    );
    return rows.map((row) => this.fromRow(name, row));
  }

  /** Versions that expired but are still remembered (for the key_expired answer), newest first. */
  async expired(db: Queryable, name: SecretName, now = new Date()): Promise<StoredSecret[]> {
    const { rows } = await db.query(
      `SELECT ${COLUMNS} FROM server_secret WHERE name = $1 AND expires_at IS NOT NULL AND expires_at <= $2 ORDER BY version DESC`,
      [name, now],
    );
    return rows.map((row) => this.fromRow(name, row));
  }

  /** The highest version whatever its state, or undefined when none exists. */
  async newest(db: Queryable, name: SecretName): Promise<StoredSecret | undefined> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM server_secret WHERE name = $1 ORDER BY version DESC LIMIT 1`, [name]);
    return rows[0] ? this.fromRow(name, rows[0]) : undefined;
  }

  /** Inserts the next version; the caller holds a secrets advisory lock, so max+1 cannot race. */
  async insertNext(db: PoolClient, name: SecretName, value: NewSecret): Promise<number> {
    const { rows } = await db.query('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM server_secret WHERE name = $1', [name]);
    const version = rows[0].next as number;
    await db.query(
      `INSERT INTO server_secret (name, version, secret, public, sealing, valid_after, rotates_at, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [name, version, sealSecret(this.kek, aadOf(name, version), value.secret), Buffer.from(value.publicKey), SEALING,
        value.validAfter, value.rotatesAt, value.expiresAt, this.replicaId],
    );
    return version;
  }

  /** Brings expires_at forward (never back) for the given versions. */
  async expireBy(db: PoolClient, name: SecretName, versions: number[], at: Date): Promise<void> {
    if (versions.length === 0) return;
    await db.query(
      `UPDATE server_secret SET expires_at = $3
        WHERE name = $1 AND version = ANY($2::int[]) AND (expires_at IS NULL OR expires_at > $3)`,
      [name, versions, at],
    );
  }

  /** Clears rotates_at and expires_at: the version stays active until rotation is enabled again. */
  async makePermanent(db: PoolClient, name: SecretName, version: number): Promise<void> {
    await db.query('UPDATE server_secret SET rotates_at = NULL, expires_at = NULL WHERE name = $1 AND version = $2', [name, version]);
  }

  /** Deletes expired versions except the newest `keep` of them. */
  async pruneExpired(db: PoolClient, name: SecretName, now: Date, keep: number): Promise<number> {
    const { rowCount } = await db.query(
      `DELETE FROM server_secret WHERE name = $1 AND version IN (
         SELECT version FROM server_secret WHERE name = $1 AND expires_at IS NOT NULL AND expires_at <= $2
          ORDER BY version DESC OFFSET $3)`,
      [name, now, keep],
    );
    return rowCount ?? 0;
  }

  private fromRow(name: SecretName, row: Record<string, unknown>): StoredSecret {
    const version = row.version as number;
    return {
      name,
      version,
      secret: openSecret(this.kek, aadOf(name, version), row.secret as Buffer),
      publicKey: row.public as Buffer,
      validAfter: row.valid_after as Date,
      rotatesAt: row.rotates_at as Date | null,
      expiresAt: row.expires_at as Date | null,
      createdBy: (row.created_by as string | null) ?? null,
    };
  }
}
