#!/usr/bin/env node
import { loadConfigOrExit } from '@commucat/config';
import { initTelemetry } from '@commucat/telemetry';
import { createServiceRuntime, installSignalHandlers } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { SecretsServiceService } from '@commucat/contracts';
import { bootstrapSecrets } from './bootstrap.js';
import { SecretStore } from './secret-store.js';
import { SecretsService } from './secrets-service.js';

const fromHex = (hex: string | undefined): Buffer | undefined => (hex ? Buffer.from(hex, 'hex') : undefined);

async function main(): Promise<void> {
  const config = loadConfigOrExit({ require: ['storage.postgres_dsn', 'crypto.secrets_kek'] });
  const telemetry = initTelemetry({ serviceName: 'secrets', logLevel: config.telemetry.logLevel, otlpEndpoint: config.telemetry.otlpEndpoint });
  const { logger } = telemetry;
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-secrets', logger });
  const store = new SecretStore(Buffer.from(config.crypto.secretsKek!, 'hex'));
  const service = new SecretsService(pool, store);

  const runtime = createServiceRuntime({
    name: 'secrets',
    adminBind: config.services.secrets.adminBind,
    grpcBind: config.services.secrets.grpcBind,
    telemetry,
  });
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));
  runtime.onShutdown(() => pool.end());
  installSignalHandlers(runtime, logger);

  await bootstrapSecrets(pool, store, {
    noisePrivate: fromHex(config.crypto.noisePrivate),
    noisePublic: fromHex(config.crypto.noisePublic),
    federationSeed: fromHex(config.crypto.federationSeed),
  }, logger);
  const ca = await service.loadCa();
  runtime.addGrpcService(SecretsServiceService, service.handlers() as never);
  const ports = await runtime.start();
  logger.info({ ...ports, device_ca_public: ca.publicKey.toString('hex') }, 'secrets ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`secrets: fatal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
