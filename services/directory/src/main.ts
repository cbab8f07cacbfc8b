#!/usr/bin/env node
import { connectBus, natsAuthOf, RouterNoticePublisher, Subjects } from '@commucat/bus';
import { createGrpcClient, runService } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { Counter } from '@commucat/telemetry';
import { DirectoryServiceService, FederationServiceClient, SecretsServiceClient } from '@commucat/contracts';
import type { RevocationPublisher } from './device-service.js';
import { directoryHandlers } from './directory-service.js';
import { GrpcFederationOutbox } from './grpc-federation-outbox.js';
import { HelloAuthorizer } from './hello-authorizer.js';
import { PairingService } from './pairing-service.js';
import { SecretsCertificateAuthority } from './secrets-authority.js';
import { sessionStore } from './session-store.js';

const CERTIFICATE_LIFETIME_SECONDS = 30 * 24 * 3600; // the reference's 30 days
const PURGE_INTERVAL_MS = 10 * 60 * 1000;

runService('directory', async ({ config, logger, runtime, telemetry }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-directory', logger });
  runtime.onShutdown(() => pool.end());
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));

  const bus = await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: 'commucat-directory', logger, registry: telemetry.registry });
  runtime.onShutdown(() => bus.drain());
  runtime.addReadinessCheck('nats', () => bus.ready());
  const publisher: RevocationPublisher = {
    deviceRevoked(event) {
      // The revocation is committed already; a lost announcement only delays the disconnect
      // (the device's sessions are refused and its next Hello fails), so it must not fail the RPC.
      try {
        bus.publish(Subjects.deviceRevoked, {}, event);
      } catch (err) {
        logger.warn({ err, deviceId: event.deviceId }, 'could not announce a device revocation');
      }
    },
  };

  const secrets = createGrpcClient(SecretsServiceClient, config.fleet.secretsAddr);
  runtime.onShutdown(() => secrets.close());
  const authority = new SecretsCertificateAuthority(secrets);
  runtime.addReadinessCheck('secrets', async () => { await authority.publicKey(); });
  const authorizer = new HelloAuthorizer(pool, authority, {
    domain: config.server.domain!,
    autoApproveDevices: config.server.autoApproveDevices,
    maxAutoDevicesPerUser: config.server.maxAutoDevicesPerUser,
    sessionTtlSeconds: config.server.sessionTtl,
    certificateLifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS,
    certificateReuseMarginSeconds: 24 * 3600,
  });
  // Not a readiness check: only federated friend requests need it, and they fail on their own.
  const federation = createGrpcClient(FederationServiceClient, config.fleet.federationAddr);
  runtime.onShutdown(() => federation.close());
  const pairing = { pairingTtlSeconds: config.limits.pairingTtl, certificateLifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS };
  const rotation = {
    enabled: config.rotation.device.enabled,
    minIntervalSeconds: config.rotation.device.minInterval,
    proofTtlSeconds: config.rotation.device.proofTtl,
    notifyChannel: config.rotation.device.notifyChannel,
    certificateLifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS,
  };
  runtime.addGrpcService(DirectoryServiceService, directoryHandlers({
    pool, authorizer, ca: authority, publisher, domain: config.server.domain!, pairing,
    notices: new RouterNoticePublisher(bus), rotation, logger, federation: new GrpcFederationOutbox(federation),
    rotations: new Counter({ name: 'commucat_device_rotations_total', help: 'Device keys rotated over POST /api/device/csr', registers: [telemetry.registry] }),
  }));

  const pairings = new PairingService(pool, authority, pairing);
  const purge = setInterval(() => {
    sessionStore.purgeExpired(pool).then(
      (n) => n > 0 && logger.info({ deleted: n }, 'purged expired sessions'),
      (err: unknown) => logger.warn({ err }, 'session purge failed'),
    );
    pairings.purgeStale().then(
      (n) => n > 0 && logger.info({ deleted: n }, 'purged stale pairing codes'),
      (err: unknown) => logger.warn({ err }, 'pairing purge failed'),
    );
  }, PURGE_INTERVAL_MS);
  purge.unref();
  runtime.onShutdown(() => clearInterval(purge));
  return { nats_namespace: config.fleet.natsNamespace, secrets_addr: config.fleet.secretsAddr, federation_addr: config.fleet.federationAddr };
}, { require: ['storage.postgres_dsn', 'server.domain'] });
