#!/usr/bin/env node
import { connectBus, natsAuthOf, Subjects } from '@commucat/bus';
import { runService } from '@commucat/service-kit';
import { createLedger } from '@commucat/ledger';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { SecretsServiceService } from '@commucat/contracts';
import { bootstrapSecrets } from './bootstrap.js';
import { rotationPolicy } from './rotation-policy.js';
import { SecretRotator, type Rotated } from './rotator.js';
import { SecretStore } from './secret-store.js';
import { SecretsService } from './secrets-service.js';

const fromHex = (hex: string | undefined): Buffer | undefined => (hex ? Buffer.from(hex, 'hex') : undefined);

runService('secrets', async ({ config, logger, runtime, telemetry }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-secrets', logger });
  runtime.onShutdown(() => pool.end());
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));
  // Names the replica in server_secret.created_by (the admin bind is unique per process on a host).
  const replicaId = `${config.services.secrets.grpcBind}#${process.pid}`;
  const store = new SecretStore(Buffer.from(config.crypto.secretsKek!, 'hex'), replicaId);
  const rotation = rotationPolicy(config.security.rotation);
  await bootstrapSecrets(pool, store, {
    noisePrivate: fromHex(config.crypto.noisePrivate),
    noisePublic: fromHex(config.crypto.noisePublic),
    federationSeed: fromHex(config.crypto.federationSeed),
    ...(config.admin.token !== undefined ? { adminToken: config.admin.token } : {}),
    rotation,
  }, logger);
  const service = new SecretsService(pool, store, rotation.noise.maxVersions);
  const ca = await service.loadCa();
  const federation = await service.loadFederationKey();
  runtime.addGrpcService(SecretsServiceService, service.handlers());

  const ledger = createLedger({ mode: config.ledger.mode, ...(config.ledger.target ? { target: config.ledger.target } : {}) }, logger);
  runtime.onShutdown(() => ledger.close());
  // Only a rotating fleet needs the NATS announcement; gateways also poll.
  const rotates = rotation.noise.enabled || (rotation.admin.enabled && rotation.admin.tokenFile !== undefined);
  const bus = rotates
    ? await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: `commucat-secrets-${process.pid}`, logger, registry: telemetry.registry })
    : undefined;
  const rotator = new SecretRotator(pool, store, rotation, {
    ledger, logger,
    ...(bus ? { announce: (r: Rotated) => bus.publish(Subjects.secretsKeysChanged, {}, { name: r.name, version: r.version, at: Date.now() }) } : {}),
  });
  if (bus) {
    runtime.onShutdown(() => bus.drain());
    runtime.addReadinessCheck('nats', () => bus.ready());
  }
  runtime.onShutdown(() => rotator.stop());
  rotator.start();
  return {
    device_ca_public: ca.publicKey.toString('hex'),
    federation_public: federation.publicKey.toString('hex'),
    noise_rotation: rotation.noise.enabled,
    admin_rotation: rotation.admin.enabled && rotation.admin.tokenFile !== undefined,
    ledger: ledger.mode,
  };
}, { require: ['storage.postgres_dsn', 'crypto.secrets_kek'] });
