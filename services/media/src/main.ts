#!/usr/bin/env node
import { connectBus, natsAuthOf } from '@commucat/bus';
import { runService } from '@commucat/service-kit';
import { mediaMetrics } from './media-metrics.js';
import { MediaWorker } from './media-worker.js';
import { warmUpVideoEncoder } from './warm-up.js';

// The gRPC server carries only the health service (diagnose checks it); media itself moves over NATS.
runService('media', async ({ config, logger, runtime, telemetry }) => {
  const bus = await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: 'commucat-media', logger, registry: telemetry.registry });
  runtime.onShutdown(() => bus.drain());
  runtime.addReadinessCheck('nats', () => bus.ready());
  const replicaId = config.fleet.mediaReplicaId;
  // Before the first heartbeat: routers send a replica frames as soon as they hear of it.
  await warmUpVideoEncoder();
  const tuning = { opusComplexity: config.media.opusComplexity, vp8CpuUsed: config.media.vp8CpuUsed };
  const worker = new MediaWorker({ bus, replicaId, logger, metrics: mediaMetrics(telemetry.registry), tuning });
  await worker.start();
  // Hooks run last-added first: encoders close (their last packets still published) before the bus drains.
  runtime.onShutdown(() => worker.stop());
  return { replica_id: replicaId, nats_namespace: config.fleet.natsNamespace, opus_complexity: tuning.opusComplexity, vp8_cpu_used: tuning.vp8CpuUsed };
});
