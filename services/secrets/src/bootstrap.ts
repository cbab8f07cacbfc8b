import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '@commucat/storage';
import { DeviceKeyPair, NoiseStaticKey, x25519PublicKey } from '@commucat/crypto';
import type { SecretStore } from './secret-store.js';

export interface BootstrapSettings {
  /** crypto.noise_private / crypto.noise_public: an operator-pinned first Noise key. */
  noisePrivate?: Buffer;
  noisePublic?: Buffer;
  /** crypto.federation_seed: derives the device CA like the reference (DeviceKeyPair::from_seed). */
  federationSeed?: Buffer;
}

// Any number works as long as every secrets replica uses the same one.
const BOOTSTRAP_LOCK = 0x636f6d6d; // "comm"

/**
 * Creates the first Noise static key and the device CA when the database has none, so a restart
 * (or a second replica) finds and keeps the same keys. The first Noise key never expires by
 * default: the real client pins it once and never refreshes it (spec trap T3).
 */
export async function bootstrapSecrets(pool: Pool, store: SecretStore, settings: BootstrapSettings, logger: Logger): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    const now = new Date();

    if ((await store.active(client, 'noise-static', now)).length === 0) {
      const key = configuredNoiseKey(settings) ?? NoiseStaticKey.generate();
      const version = await store.insertNext(client, 'noise-static', {
        secret: key.privateKey, publicKey: key.publicKey, validAfter: now, rotatesAt: null, expiresAt: null,
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
  });
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
