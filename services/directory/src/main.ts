#!/usr/bin/env node
import { createGrpcClient, runService } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { DirectoryServiceService, SecretsServiceClient } from '@commucat/contracts';
import { directoryHandlers } from './directory-service.js';
import { HelloAuthorizer } from './hello-authorizer.js';
import { SecretsCertificateAuthority } from './secrets-authority.js';
import { sessionStore } from './session-store.js';

const CERTIFICATE_LIFETIME_SECONDS = 30 * 24 * 3600; // the reference's 30 days
const SESSION_PURGE_INTERVAL_MS = 10 * 60 * 1000;

runService('directory', async ({ config, logger, runtime }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-directory', logger });
  const secrets = createGrpcClient(SecretsServiceClient, config.fleet.secretsAddr);
  const authority = new SecretsCertificateAuthority(secrets);
  const authorizer = new HelloAuthorizer(pool, authority, {
    domain: config.server.domain!,
    autoApproveDevices: config.server.autoApproveDevices,
    maxAutoDevicesPerUser: config.server.maxAutoDevicesPerUser,
    sessionTtlSeconds: config.server.sessionTtl,
    certificateLifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS,
    certificateReuseMarginSeconds: 24 * 3600,
  });
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));
  runtime.addReadinessCheck('secrets', async () => { await authority.publicKey(); });
  runtime.addGrpcService(DirectoryServiceService, directoryHandlers(pool, authorizer));

  const purge = setInterval(() => {
    sessionStore.purgeExpired(pool).then(
      (n) => n > 0 && logger.info({ deleted: n }, 'purged expired sessions'),
      (err: unknown) => logger.warn({ err }, 'session purge failed'),
    );
  }, SESSION_PURGE_INTERVAL_MS);
  purge.unref();
  runtime.onShutdown(() => pool.end());
  runtime.onShutdown(() => { clearInterval(purge); secrets.close(); });
}, { require: ['storage.postgres_dsn', 'server.domain'] });
