#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { connectBus, natsAuthOf, RouterNoticePublisher } from '@commucat/bus';
import { DirectoryServiceClient, FederationServiceService, SecretsServiceClient } from '@commucat/contracts';
import { hexToBytes } from '@commucat/crypto';
import { createGrpcClient, runService } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { OutboxDispatcher } from './dispatcher.js';
import { federationMetrics } from './federation-metrics.js';
import { federationHandlers } from './federation-service.js';
import { FleetDelivery } from './fleet-delivery.js';
import { InboundProcessor } from './inbound.js';
import { OutboxStore } from './outbox.js';
import { PeerDirectory } from './peers.js';
import { secretsSigner } from './signer.js';

const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

runService('federation', async ({ config, logger, runtime, telemetry }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-federation', logger });
  runtime.onShutdown(() => pool.end());
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));

  const bus = await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: 'commucat-federation', logger, registry: telemetry.registry });
  runtime.onShutdown(() => bus.drain());
  runtime.addReadinessCheck('nats', () => bus.ready());

  const secrets = createGrpcClient(SecretsServiceClient, config.fleet.secretsAddr);
  runtime.onShutdown(() => secrets.close());
  const directory = createGrpcClient(DirectoryServiceClient, config.fleet.directoryAddr);
  runtime.onShutdown(() => directory.close());

  const f = config.federation;
  const peers = new PeerDirectory(f.peers.map((p) => ({ domain: p.domain, url: p.url, publicKey: hexToBytes(p.publicKey) })));
  const metrics = federationMetrics(telemetry.registry);
  const outbox = new OutboxStore(pool);
  const inbound = new InboundProcessor({
    pool, peers, metrics,
    delivery: new FleetDelivery({ directory, notices: new RouterNoticePublisher(bus), localDomain: config.server.domain! }), localDomain: config.server.domain,
    freshnessSeconds: f.freshnessSeconds, retentionSeconds: f.inboundRetentionSeconds,
  });
  const dispatcher = new OutboxDispatcher({
    store: outbox, peers, signer: secretsSigner(secrets), domain: config.server.domain, metrics, logger,
    tls: { ca: f.peerCa === undefined ? undefined : readFileSync(f.peerCa), rejectUnauthorized: f.tlsRejectUnauthorized },
    backoff: { baseMs: f.backoffBaseMs, maxMs: f.backoffMaxMs },
    maxAttempts: f.maxAttempts, perPeerConcurrency: f.perPeerConcurrency, intervalMs: f.dispatchIntervalMs,
  });
  runtime.addGrpcService(FederationServiceService, federationHandlers({ outbox, inbound, peers, onEnqueued: () => dispatcher.wake() }));
  dispatcher.start();
  const prune = setInterval(() => {
    inbound.prune().catch((err: unknown) => logger.warn({ err }, 'federation inbound prune failed'));
    outbox.pruneDelivered(f.inboundRetentionSeconds).catch((err: unknown) => logger.warn({ err }, 'federation outbox prune failed'));
  }, PRUNE_INTERVAL_MS);
  prune.unref();
  // Hooks run last-added first: the loops stop before the clients and the pool close.
  runtime.onShutdown(() => clearInterval(prune));
  runtime.onShutdown(() => dispatcher.stop());
  return { peers: peers.domains(), freshness_seconds: f.freshnessSeconds, max_attempts: f.maxAttempts };
}, { require: ['storage.postgres_dsn'] });
