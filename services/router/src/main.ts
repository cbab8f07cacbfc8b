#!/usr/bin/env node
import { connectBus, natsAuthOf, Subjects } from '@commucat/bus';
import { DirectoryServiceClient, FederationServiceClient, PresenceServiceClient, RelayServiceClient } from '@commucat/contracts';
import { callUnary, createGrpcClient, runService } from '@commucat/service-kit';
import { createPgPool, pingPostgres } from '@commucat/storage';
import { CallDisconnects } from './call-disconnects.js';
import { CallFrames } from './call-frames.js';
import { CallPresenceLoop } from './call-presence-loop.js';
import { CallSignals } from './call-signals.js';
import { CallStatsRecorder } from './call-stats-recorder.js';
import { CallStore } from './call-store.js';
import { CallSweeper } from './call-sweeper.js';
import { FanOut } from './fan-out.js';
import { FrameHandlers } from './frame-handlers.js';
import { InboundLoop } from './inbound-loop.js';
import { MediaFrames } from './media-frames.js';
import { MediaReplicas } from './media-replicas.js';
import { MembershipStore } from './membership-store.js';
import { NoticeLoop } from './notice-loop.js';
import { PresenceFrames } from './presence-frames.js';
import { registerActiveCallsGauge, routerMetrics } from './router-metrics.js';

runService('router', async ({ config, logger, runtime, telemetry }) => {
  const pool = createPgPool({ dsn: config.storage.postgresDsn!, max: config.storage.pgPoolMax, applicationName: 'commucat-router', logger });
  runtime.onShutdown(() => pool.end());
  runtime.addReadinessCheck('postgres', () => pingPostgres(pool));

  const bus = await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: 'commucat-router', logger, registry: telemetry.registry });
  runtime.onShutdown(() => bus.drain());
  runtime.addReadinessCheck('nats', () => bus.ready());

  const relay = createGrpcClient(RelayServiceClient, config.fleet.relayAddr);
  const presence = createGrpcClient(PresenceServiceClient, config.fleet.presenceAddr);
  const directory = createGrpcClient(DirectoryServiceClient, config.fleet.directoryAddr);
  const federation = createGrpcClient(FederationServiceClient, config.fleet.federationAddr);
  runtime.onShutdown(() => { relay.close(); presence.close(); directory.close(); federation.close(); });
  const friends = {
    mutualFriendDevices: async (userId: string) =>
      (await callUnary(directory, 'friendDevices', { userId }, { deadlineMs: 2_000, waitForReady: true })).deviceIds,
  };

  const membership = new MembershipStore(pool);
  const stopping = new AbortController();
  const fanOut = new FanOut({ relay, presence, bus, logger, federation, stopping: stopping.signal });
  const metrics = routerMetrics(telemetry.registry);
  const callStore = new CallStore(pool);
  const callStats = new CallStatsRecorder(callStore, telemetry.registry, logger);
  registerActiveCallsGauge(telemetry.registry, () => callStore.countActive());
  const callSignals = new CallSignals({
    fanOut, logger,
    onCallEnded: (callId) => {
      bus.publish(Subjects.mediaCallEnded, {}, { callId });
      callStats.record(callId).catch((err: unknown) => logger.warn({ err, callId }, 'could not aggregate the stats of an ended call'));
    },
    onJoined: (callId) => bus.publish(Subjects.mediaKeyframeRequest, {}, { callId }),
  });
  const calls = new CallFrames({
    store: callStore, membership, signals: callSignals, localDomain: config.server.domain!,
    ringTimeoutSeconds: config.calls.ringTimeoutSeconds, maxParticipants: config.calls.maxParticipants, callsTotal: metrics.callsTotal,
  });
  const handlers = new FrameHandlers({
    membership,
    fanOut,
    presenceFrames: new PresenceFrames({ presence, membership, friends, fanOut, logger }),
    logger,
    localDomain: config.server.domain!,
    calls,
  });
  const loop = new InboundLoop({ bus, handlers, metrics, logger, stopping });
  await loop.start();
  const notices = new NoticeLoop({ bus, fanOut, logger });
  await notices.start();
  const disconnects = new CallDisconnects({
    store: callStore, signals: callSignals, logger,
    lookupRoutes: async (deviceIds) => (await callUnary(presence, 'lookupRoutes', { deviceIds }, { deadlineMs: 5_000, waitForReady: true })).routes,
  });
  const callPresence = new CallPresenceLoop({ bus, disconnects, logger });
  await callPresence.start();
  const sweeper = new CallSweeper({ store: callStore, signals: callSignals, logger, disconnects });
  sweeper.start();
  const media = new MediaFrames({ bus, calls: callStore, membership, fanOut, replicas: new MediaReplicas(), logger });
  media.start();
  // Hooks run last-added first: the loops finish what they took (and its replies) before the
  // clients, the bus and the pool close. The inbound loop stops first because its stop() aborts
  // `stopping`, which also releases a notice still waiting for relay.
  runtime.onShutdown(() => notices.stop());
  runtime.onShutdown(() => media.stop());
  runtime.onShutdown(() => callPresence.stop());
  runtime.onShutdown(() => sweeper.stop());
  runtime.onShutdown(() => loop.stop());
  return { ring_timeout_seconds: config.calls.ringTimeoutSeconds, max_call_participants: config.calls.maxParticipants, relay_addr: config.fleet.relayAddr, presence_addr: config.fleet.presenceAddr, directory_addr: config.fleet.directoryAddr, federation_addr: config.fleet.federationAddr };
}, { require: ['storage.postgres_dsn', 'server.domain'] });
