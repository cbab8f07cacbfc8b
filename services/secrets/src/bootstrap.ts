import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '@commucat/storage';
import { DeviceKeyPair, NoiseStaticKey, x25519PublicKey } from '@commucat/crypto';
import { generateAdminToken, hashAdminToken } from './admin-token.js';
import { SECRETS_LOCK } from './locks.js';
import { lifetime, STATIC_POLICY, type RotationPolicy } from './rotation-policy.js';
import type { SecretStore } from './secret-store.js';
import { writeAdminTokenFile } from './token-file.js';

export interface BootstrapSettings {
  /** crypto.noise_private / crypto.noise_public: an operator-pinned first Noise key. */
  noisePrivate?: Buffer;
  noisePublic?: Buffer;
  /** crypto.federation_seed: derives the device CA like the reference (DeviceKeyPair::from_seed). */
  federationSeed?: Buffer;
  /** admin.token: stored (hashed) as the first admin token when none is active. */
  adminToken?: string;
  /** security.rotation.*; absent: nothing rotates or expires. */
  rotation?: RotationPolicy;
}

/**
 * Creates the first Noise static key, the device CA, the (separate) federation signing key and
 * the first admin token when the database has none, so a restart (or a second replica) finds and
 * keeps the same keys. Without Noise rotation the first key never expires: the real client pins
 * it once and never refreshes it (spec trap T3).
 */
export async function bootstrapSecrets(pool: Pool, store: SecretStore, settings: BootstrapSettings, logger: Logger): Promise<void> {
  const rotation = settings.rotation ?? STATIC_POLICY;
  let generatedToken: string | undefined;
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SECRETS_LOCK]);
    const now = new Date();

    const activeNoise = await store.active(client, 'noise-static', now);
    // Rotation was switched off after it had run: keep the newest key for good rather than let the
    // whole catalogue expire with nobody rotating it.
    if (!rotation.noise.enabled && activeNoise[0] && activeNoise[0].expiresAt !== null) {
      await store.makePermanent(client, 'noise-static', activeNoise[0].version);
      logger.info({ version: activeNoise[0].version }, 'noise rotation is off: the newest noise key no longer expires');
    }
    if (activeNoise.length === 0) {
      const key = configuredNoiseKey(settings) ?? NoiseStaticKey.generate();
      const version = await store.insertNext(client, 'noise-static', {
        secret: key.privateKey, publicKey: key.publicKey, validAfter: now, ...lifetime(rotation.noise, now),
      });
      logger.info({ version, source: settings.noisePrivate ? 'config' : 'generated' }, 'created noise static key');
    }

    if ((await store.active(client, 'device-ca', now)).length === 0) {
      const ca = settings.federationSeed ? DeviceKeyPair.fromSeed(settings.federationSeed) : DeviceKeyPair.generate();
      const version = await store.insertNext(client, 'device-ca', {
        secret: ca.privateKey, publicKey: ca.publicKey, validAfter: now, rotatesAt: null, expiresAt: null,
      });
      logger.info({ version, source: settings.federationSeed ? 'config' : 'generated' }, 'created device CA key');
    }

    // Never derived from the CA or its seed: a leaked federation key must not sign device certificates (§11.11).
    if ((await store.active(client, 'federation-signing', now)).length === 0) {
      const signer = DeviceKeyPair.generate();
      const version = await store.insertNext(client, 'federation-signing', {
        secret: signer.privateKey, publicKey: signer.publicKey, validAfter: now, rotatesAt: null, expiresAt: null,
      });
      logger.info({ version }, 'created federation signing key');
    }

    generatedToken = await bootstrapAdminToken(client, store, settings, rotation, now, logger);
  });
  // After COMMIT, and only to the 0600 file: the token never reaches a log (weakness §11.10).
  if (generatedToken !== undefined) writeAdminTokenFile(rotation.admin.tokenFile!, generatedToken);
}

async function bootstrapAdminToken(
  client: PoolClient, store: SecretStore, settings: BootstrapSettings, rotation: RotationPolicy, now: Date, logger: Logger,
): Promise<string | undefined> {
  // A configured token that differs from a stored active one is ignored, as in the reference.
  if ((await store.active(client, 'admin-token', now)).length > 0) return undefined;
  const rotates = rotation.admin.enabled && rotation.admin.tokenFile !== undefined;
  let token = settings.adminToken;
  let generated: string | undefined;
  if (token === undefined) {
    if (!rotates) return undefined;
    generated = generateAdminToken();
    token = generated;
  }
  const { salt, hash } = hashAdminToken(token);
  const version = await store.insertNext(client, 'admin-token', {
    secret: hash, publicKey: salt, validAfter: now, ...lifetime({ ...rotation.admin, enabled: rotates }, now),
  });
  logger.info({ version, source: generated ? 'generated (written to the admin token file)' : 'config' }, 'stored admin token hash');
  return generated;
}

function configuredNoiseKey(settings: BootstrapSettings): NoiseStaticKey | undefined {
  if (!settings.noisePrivate) return undefined;
  const key = NoiseStaticKey.fromPrivate(settings.noisePrivate);
  // The reference only checked this on first boot; a mismatched pair would hand clients a key
  // the server cannot answer for.
  if (settings.noisePublic && !x25519PublicKey(settings.noisePrivate).equals(settings.noisePublic)) {
    throw new Error('crypto.noise_public does not match crypto.noise_private');
  }
  return key;
}
