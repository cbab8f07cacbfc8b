import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { NoiseStaticKey } from '@commucat/crypto';
import type { Ledger } from '@commucat/ledger';
import { withTransaction } from '@commucat/storage';
import { generateAdminToken, hashAdminToken } from './admin-token.js';
import { SECRETS_LOCK } from './locks.js';
import { isDue, lifetime, type KindPolicy, type RotationPolicy } from './rotation-policy.js';
import type { SecretName, SecretStore, StoredSecret } from './secret-store.js';
import { writeAdminTokenFile } from './token-file.js';

export interface Rotated {
  name: 'noise-static' | 'admin-token';
  version: number;
  /** For noise-static: the new public key. Never set for admin-token. */
  publicKey?: Buffer;
}

export interface TickOutcome {
  /** False when another replica held the lock this tick (it does the work). */
  locked: boolean;
  rotated: Rotated[];
  /** Versions deleted because they expired long enough ago. */
  pruned: number;
}

export interface RotatorDeps {
  ledger: Ledger;
  logger: Logger;
  /** Tells the gateways to reload (NATS); failures are logged, the gateways also poll. */
  announce?: (rotated: Rotated) => void;
}

/**
 * Rotates the Noise static key and the admin token on schedule. Cluster-safe: each tick runs in one
 * transaction that takes `pg_try_advisory_xact_lock` and re-reads the catalogue under it, so exactly
 * one replica rotates a due key and versions never conflict; replicas that miss the lock skip.
 */
export class SecretRotator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(private readonly pool: Pool, private readonly store: SecretStore, private readonly policy: RotationPolicy, private readonly deps: RotatorDeps) {}

  get enabled(): boolean {
    return this.policy.noise.enabled || this.adminRotates;
  }

  /** Admin rotation needs somewhere to put the new token; without a file it would lock everyone out. */
  private get adminRotates(): boolean {
    return this.policy.admin.enabled && this.policy.admin.tokenFile !== undefined;
  }

  start(): void {
    if (this.policy.admin.enabled && !this.adminRotates) {
      this.deps.logger.warn('admin token rotation is enabled but security.rotation.admin_token_file is unset: not rotating the admin token');
    }
    if (!this.enabled) return;
    this.stopped = false;
    this.schedule();
  }

  /**
   * Each wait is jittered (±25 %), so replicas do not tick in lockstep and whichever reaches a due
   * key first rotates it; the lock makes the others skip.
   */
  private schedule(): void {
    if (this.stopped) return;
    const delay = this.policy.tickMs * (0.75 + Math.random() * 0.5);
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'secret rotation tick failed'))
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async tick(now = new Date()): Promise<TickOutcome> {
    let newToken: { version: number; token: string } | undefined;
    const outcome = await withTransaction(this.pool, async (client): Promise<TickOutcome> => {
      const { rows } = await client.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [SECRETS_LOCK]);
      if (rows[0].locked !== true) return { locked: false, rotated: [], pruned: 0 };
      const rotated: Rotated[] = [];
      if (this.policy.noise.enabled) {
        const noise = await this.rotateNoise(client, now);
        if (noise) rotated.push(noise);
      }
      if (this.adminRotates) {
        const admin = await this.rotateAdmin(client, now);
        if (admin) {
          newToken = admin;
          rotated.push({ name: 'admin-token', version: admin.version });
        }
      }
      // Expired Noise keys stay listed for a while so pinned clients get key_expired, not a vague failure.
      const pruned = (await this.store.pruneExpired(client, 'noise-static', now, this.policy.noise.maxVersions))
        + (await this.store.pruneExpired(client, 'admin-token', now, 0));
      return { locked: true, rotated, pruned };
    });
    // Only after COMMIT: the file never holds a token the database does not know.
    if (newToken) writeAdminTokenFile(this.policy.admin.tokenFile!, newToken.token);
    for (const r of outcome.rotated) await this.record(r, now);
    return outcome;
  }

  private async rotateNoise(client: PoolClient, now: Date): Promise<Rotated | undefined> {
    const policy = this.policy.noise;
    const newest = await this.store.newest(client, 'noise-static');
    if (!newest || !isDue(policy, newest, now)) return undefined;
    const previous = await this.store.active(client, 'noise-static', now);
    const key = NoiseStaticKey.generate();
    const version = await this.store.insertNext(client, 'noise-static', { secret: key.privateKey, publicKey: key.publicKey, validAfter: now, ...lifetime(policy, now) });
    await this.retireOlder(client, 'noise-static', policy, previous, now);
    return { name: 'noise-static', version, publicKey: key.publicKey };
  }

  private async rotateAdmin(client: PoolClient, now: Date): Promise<{ version: number; token: string } | undefined> {
    const policy = this.policy.admin;
    const newest = await this.store.newest(client, 'admin-token');
    if (!newest || !isDue(policy, newest, now)) return undefined;
    const previous = await this.store.active(client, 'admin-token', now);
    const token = generateAdminToken();
    const { salt, hash } = hashAdminToken(token);
    const version = await this.store.insertNext(client, 'admin-token', { secret: hash, publicKey: salt, validAfter: now, ...lifetime(policy, now) });
    await this.retireOlder(client, 'admin-token', policy, previous, now);
    return { version, token };
  }

  /**
   * Older versions keep working for the grace window: a version that never had an expiry (created
   * before rotation was enabled) gets now + grace, and versions beyond max_versions expire now.
   */
  private async retireOlder(client: PoolClient, name: SecretName, policy: KindPolicy, previous: StoredSecret[], now: Date): Promise<void> {
    const graceEnd = new Date(now.getTime() + policy.graceMs);
    await this.store.expireBy(client, name, previous.filter((s) => s.expiresAt === null).map((s) => s.version), graceEnd);
    await this.store.expireBy(client, name, previous.slice(policy.maxVersions - 1).map((s) => s.version), now);
  }

  private async record(rotated: Rotated, now: Date): Promise<void> {
    // The digest stands for the new version: the public key for Noise, a label for the token
    // (never the token or its hash).
    const digest = rotated.publicKey
      ? createHash('sha256').update(rotated.publicKey).digest()
      : createHash('sha256').update(`admin-token:${rotated.version}:${now.toISOString()}`).digest();
    const event = rotated.name === 'noise-static' ? 'noise_rotated' : 'admin_rotated';
    try {
      await this.deps.ledger.submit({
        digest, recordedAt: now,
        metadata: { scope: 'secrets', event, name: rotated.name, version: rotated.version, ...(rotated.publicKey ? { public_key: rotated.publicKey.toString('hex') } : {}) },
      });
    } catch (err) {
      this.deps.logger.error({ err, event, version: rotated.version }, 'ledger write failed');
    }
    this.deps.logger.info({ name: rotated.name, version: rotated.version }, 'rotated secret');
    try {
      this.deps.announce?.(rotated);
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not announce the rotation; gateways will see it on their next poll');
    }
  }
}
