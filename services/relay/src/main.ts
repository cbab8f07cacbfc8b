#!/usr/bin/env node
import { runService } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { RelayServiceService } from '@commucat/contracts';
import { relayMetrics } from './relay-metrics.js';
import { RelayQueue } from './relay-queue.js';
import { relayHandlers } from './relay-service.js';

runService('relay', async ({ config, logger, runtime, telemetry }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-relay', logger });
  runtime.onShutdown(() => pool.end());
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));
  const queue = new RelayQueue({ pool, defaultTtlSeconds: config.limits.relayTtl, metrics: relayMetrics(telemetry.registry), logger });
  runtime.addGrpcService(RelayServiceService, relayHandlers(queue));
  queue.startPurging();
  // Hooks run last-added first: the purge loop stops before the pool closes.
  runtime.onShutdown(() => queue.stopPurging());
  return { relay_ttl_seconds: config.limits.relayTtl };
}, { require: ['storage.postgres_dsn'] });
