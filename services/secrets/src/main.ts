#!/usr/bin/env node
import { runService } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { SecretsServiceService } from '@commucat/contracts';
import { bootstrapSecrets } from './bootstrap.js';
import { SecretStore } from './secret-store.js';
import { SecretsService } from './secrets-service.js';

const fromHex = (hex: string | undefined): Buffer | undefined => (hex ? Buffer.from(hex, 'hex') : undefined);

runService('secrets', async ({ config, logger, runtime }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-secrets', logger });
  runtime.onShutdown(() => pool.end());
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));
  const store = new SecretStore(Buffer.from(config.crypto.secretsKek!, 'hex'));
  await bootstrapSecrets(pool, store, {
    noisePrivate: fromHex(config.crypto.noisePrivate),
    noisePublic: fromHex(config.crypto.noisePublic),
    federationSeed: fromHex(config.crypto.federationSeed),
  }, logger);
  const service = new SecretsService(pool, store);
  const ca = await service.loadCa();
  runtime.addGrpcService(SecretsServiceService, service.handlers());
  return { device_ca_public: ca.publicKey.toString('hex') };
}, { require: ['storage.postgres_dsn', 'crypto.secrets_kek'] });
