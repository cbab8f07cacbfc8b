#!/usr/bin/env node
import { parseHostPort } from '@commucat/config';
import { callUnary, createGrpcClient, runService } from '@commucat/service-kit';
import { connectBus, natsAuthOf, Streams, Subjects, timingFromHeaders } from '@commucat/bus';
import { DirectoryServiceClient, FederationServiceClient, PresenceServiceClient, RelayServiceClient, SecretsServiceClient } from '@commucat/contracts';
import { EdgeServer } from './edge-server.js';
import type { GatewayContext } from './gateway-context.js';
import { relayInbox } from './inbox-delivery.js';
import { createGatewayMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { RouteRegistry } from './route-registry.js';
import { keepaliveInterval, serverInfo } from './server-info.js';
import { ServerKeys } from './server-keys.js';
import { createRedis } from '@commucat/storage';
import { LocalRateLimiter, type ScopedRateLimiter } from './rest/local-rate-limiter.js';
import { RestApi } from './rest/rest-api.js';
import { RestError } from './rest/problems.js';
import type { RestDeps } from './rest/rest-deps.js';
import { gatewayVersion, restRoutes } from './rest/rest-routes.js';
import { RevocableSessions } from './rest/revocable-sessions.js';
import { SecurityStats } from './rest/security-stats.js';
import { SharedRateLimiter } from './rest/shared-rate-limiter.js';

const HANDSHAKE_TIMEOUT_MS = 30_000;

runService('gateway', async ({ config, telemetry, logger, runtime }) => {
  const gatewayId = config.fleet.gatewayId;
  const secrets = createGrpcClient(SecretsServiceClient, config.fleet.secretsAddr);
  const directory = createGrpcClient(DirectoryServiceClient, config.fleet.directoryAddr);
  const presence = createGrpcClient(PresenceServiceClient, config.fleet.presenceAddr);
  const relay = createGrpcClient(RelayServiceClient, config.fleet.relayAddr);
  const federation = createGrpcClient(FederationServiceClient, config.fleet.federationAddr);
  const bus = await connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), namespace: config.fleet.natsNamespace, name: `commucat-gateway-${gatewayId}`, logger, registry: telemetry.registry });
  const sessions = new RevocableSessions();
  const keys = new ServerKeys(secrets, logger);
  const routes = new RouteRegistry(presence, gatewayId, config.limits.presenceTtl * 1000, logger.child({ component: 'routes' }));
  const keepalive = keepaliveInterval(config.server.keepalive);

  const context: GatewayContext = {
    gatewayId,
    domain: config.server.domain!,
    prologue: Buffer.from(config.crypto.prologue, 'utf8'),
    keys,
    // Wait-for-ready rides out a directory restart instead of failing the Hello at once.
    directory: { authorizeHello: (req) => callUnary(directory, 'authorizeHello', req, { deadlineMs: 5000, waitForReady: true }) },
    routes,
    sessions,
    inbox: relayInbox(relay),
    router: { publish: async (frame) => { await bus.publishDurable(Subjects.routerInbound, {}, frame); } },
    media: { publish: (frame) => bus.publish(Subjects.routerMedia, {}, frame) },
    transportEncryption: config.server.transportEncryption,
    frameRate: { rate: config.security.rateLimit.frameRate, burst: config.security.rateLimit.frameBurst },
    keepaliveIntervalSeconds: keepalive,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    logger,
    metrics: createGatewayMetrics(telemetry.registry),
  };
  const limiter = new RateLimiter({
    burst: config.security.rateLimit.connectBurst,
    windowMs: config.security.rateLimit.connectWindowMs,
    penaltyMs: config.security.rateLimit.connectPenaltyMs,
  });
  const rateLimit = config.security.rateLimit;
  const httpLimit = { burst: rateLimit.httpBurst, windowMs: rateLimit.httpWindowMs, penaltyMs: rateLimit.httpPenaltyMs };
  const restLimits = {
    http: httpLimit,
    // No separate knobs exist: a session gets the same budget as an address.
    session: httpLimit,
    pairing: { burst: rateLimit.pairingBurst, windowMs: rateLimit.pairingWindowMs, penaltyMs: rateLimit.pairingPenaltyMs },
  };
  let restLimiter: ScopedRateLimiter;
  if (config.storage.redisUrl) {
    const redis = createRedis(config.storage.redisUrl, { name: `commucat-gateway-${gatewayId}`, logger });
    runtime.onShutdown(() => { redis.disconnect(); });
    restLimiter = new SharedRateLimiter(redis, {
      prefix: `commucat:${config.fleet.natsNamespace ?? 'fleet'}:ratelimit`,
      limits: restLimits,
      onError: (err) => logger.warn({ err: (err as Error).message }, 'rate limiter unavailable; request let through'),
    });
  } else {
    logger.warn('storage.redis_url is not set: REST rate limits are per gateway process');
    const local = new LocalRateLimiter(restLimits);
    runtime.onShutdown(() => local.close());
    restLimiter = local;
  }
  const deviceRotation = {
    enabled: config.rotation.device.enabled,
    minIntervalSeconds: config.rotation.device.minInterval,
    proofTtlSeconds: config.rotation.device.proofTtl,
  };
  const restDeps: RestDeps = {
    directory,
    federation,
    deviceRotation,
    domain: config.server.domain!,
    prologue: context.prologue,
    keepaliveSeconds: config.server.keepalive,
    pairingTtlSeconds: config.limits.pairingTtl,
    // Admin tokens live (hashed, rotating) in secrets; every gateway asks it, so a rotation is seen at once.
    adminTokens: {
      verifyAdminToken: async (req) => {
        try {
          return await callUnary(secrets, 'verifyAdminToken', req, { deadlineMs: 5000 });
        } catch {
          throw RestError.of('unavailable', 'admin token check unavailable');
        }
      },
    },
    isReady: () => keys.ready,
    metrics: { contentType: telemetry.registry.contentType, text: () => telemetry.registry.metrics() },
    security: new SecurityStats(context.metrics.handshakes),
    logger: logger.child({ component: 'rest' }),
    serverInfo: () => serverInfo(keys, {
      domain: config.server.domain!,
      sessionTtlSeconds: config.server.sessionTtl,
      keepaliveIntervalSeconds: keepalive,
      presenceTtlSeconds: config.limits.presenceTtl,
      autoApproveDevices: config.server.autoApproveDevices,
      pairingTtlSeconds: config.limits.pairingTtl,
      maxAutoDevicesPerUser: config.server.maxAutoDevicesPerUser,
      deviceRotation,
    }),
  };
  const rest = new RestApi({
    routes: restRoutes(restDeps),
    sessions: { validateSession: (req) => callUnary(directory, 'validateSession', req, { deadlineMs: 5000, waitForReady: true }) },
    limiter: restLimiter,
    version: gatewayVersion(),
    logger: restDeps.logger,
    onRateLimited: (scope) => context.metrics.rateLimited.inc({ scope }),
  });
  const edge = new EdgeServer({
    tlsCertPath: config.server.tlsCert!,
    tlsKeyPath: config.server.tlsKey!,
    context,
    connectLimiter: limiter,
    isReady: () => keys.ready,
    rest,
    logger,
  });

  runtime.addReadinessCheck('server-keys', async () => {
    if (!keys.ready) throw new Error('Noise keys not loaded from secrets');
  });
  // Hooks run in reverse: stop refreshing, end every stream, remove routes, close the clients.
  runtime.addReadinessCheck('nats', () => bus.ready());
  runtime.onShutdown(() => { secrets.close(); directory.close(); presence.close(); relay.close(); federation.close(); });
  runtime.onShutdown(() => bus.drain());
  runtime.onShutdown(() => routes.unregisterAll());
  runtime.onShutdown(() => edge.close());
  runtime.onShutdown(() => { keys.stop(); limiter.close(); });

  await keys.start();
  // The router's work queue must exist before the first frame is published to it.
  await bus.ensureStream(Streams.routerInbound);
  routes.start();
  // Frames for the devices held here; a device that is gone keeps them in its relay inbox.
  bus.subscribe(Subjects.gatewayDelivery, { gatewayId }, (delivery, meta) => { sessions.deliver(delivery, timingFromHeaders(meta.headers)); });
  bus.subscribe(Subjects.gatewayReply, { gatewayId }, (reply) => { sessions.reply(reply); });
  // Secrets announces rotations: reload the Noise catalogue now instead of at the next poll.
  bus.subscribe(Subjects.secretsKeysChanged, {}, () => { void keys.refreshSoon(); });
  // Every gateway hears every revocation and closes what it holds of that device.
  bus.subscribe(Subjects.deviceRevoked, {}, (revoked) => {
    const closed = sessions.closeDevice(revoked.deviceId, 'device revoked');
    if (closed > 0) logger.info({ device_id: revoked.deviceId, closed }, 'closed connections of a revoked device');
  });
  const { host, port } = parseHostPort(config.server.bind);
  const boundPort = await edge.listen(host, port);
  return { gateway_id: gatewayId, url: `https://${host}:${boundPort}`, noise_public: keys.active()[0]?.key.publicKey.toString('hex') };
}, { require: ['server.domain', 'server.tls_cert', 'server.tls_key'] });
