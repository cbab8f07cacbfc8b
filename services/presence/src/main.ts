#!/usr/bin/env node
import { loadConfigOrExit } from '@commucat/config';
import { initTelemetry } from '@commucat/telemetry';
import { createServiceRuntime, installSignalHandlers } from '@commucat/service-kit';
import { createRedis, pingRedis } from '@commucat/storage';
import { connectBus, Subjects } from '@commucat/bus';
import { PresenceServiceService } from '@commucat/contracts';
import { presenceHandlers } from './presence-service.js';
import { RouteStore } from './route-store.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit({ require: ['storage.redis_url'] });
  const telemetry = initTelemetry({ serviceName: 'presence', logLevel: config.telemetry.logLevel, otlpEndpoint: config.telemetry.otlpEndpoint });
  const { logger } = telemetry;
  const redis = createRedis(config.storage.redisUrl!, { name: 'commucat-presence', logger });
  const bus = await connectBus({ servers: config.fleet.natsUrl, name: 'commucat-presence', logger });
  const store = new RouteStore(redis, config.limits.presenceTtl * 1000);

  const runtime = createServiceRuntime({
    name: 'presence',
    adminBind: config.services.presence.adminBind,
    grpcBind: config.services.presence.grpcBind,
    telemetry,
  });
  runtime.addReadinessCheck('redis', () => pingRedis(redis));
  runtime.addReadinessCheck('nats', () => bus.ready());
  runtime.addGrpcService(PresenceServiceService, presenceHandlers(store, {
    changed(route, state) {
      // Core NATS is at-most-once: these events are hints for live consumers, Redis is the truth.
      bus.publish(Subjects.presenceChanged, {}, {
        deviceId: route.deviceId, userId: route.userId, state, gatewayId: route.gatewayId,
        connectionId: route.connectionId, at: Date.now(),
      });
    },
  }) as never);
  runtime.onShutdown(async () => { await redis.quit(); });
  runtime.onShutdown(() => bus.drain());
  installSignalHandlers(runtime, logger);

  const ports = await runtime.start();
  logger.info(ports, 'presence ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`presence: fatal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
