#!/usr/bin/env node
import { runService } from '@commucat/service-kit';
import { createRedis, pingRedis } from '@commucat/storage';
import { connectBus, natsAuthOf, Subjects } from '@commucat/bus';
import { PresenceServiceService } from '@commucat/contracts';
import { presenceHandlers } from './presence-service.js';
import { RouteStore } from './route-store.js';

runService('presence', async ({ config, logger, runtime, telemetry }) => {
  const redis = createRedis(config.storage.redisUrl!, { name: 'commucat-presence', logger });
  runtime.onShutdown(async () => { await redis.quit(); });
  const bus = await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: 'commucat-presence', logger, registry: telemetry.registry });
  runtime.onShutdown(() => bus.drain());
  const store = new RouteStore(redis, config.limits.presenceTtl * 1000);
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
  }));
}, { require: ['storage.redis_url'] });
