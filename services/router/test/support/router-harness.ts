import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { connectBus, Streams, Subjects, type Bus } from '@commucat/bus';
import { decodeFrame, encodeFrame, type Frame } from '@commucat/ccp1';
import {
  type Delivery, type Notice, PresenceServiceClient, PresenceServiceService, RelayServiceClient, RelayServiceService, type Reply,
} from '@commucat/contracts';
import { callUnary, createGrpcClient, createServiceRuntime, type ServiceRuntime } from '@commucat/service-kit';
import { createRedis, type Redis } from '@commucat/storage';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import { migratedSchema, type MigratedSchema } from '../../../../tests/support/pg-schema';
import { stackEnv } from '../../../../tests/support/stack-env';
// A test may start other services from their sources; the router itself only talks to them over gRPC.
import { RelayQueue, relayHandlers, relayMetrics } from '../../../relay/src/index';
import { presenceHandlers, RouteStore } from '../../../presence/src/index';
import { friendStore } from '../../../directory/src/friend-store';
import { CallDisconnects } from '../../src/call-disconnects';
import { CallFrames } from '../../src/call-frames';
import { CallPresenceLoop } from '../../src/call-presence-loop';
import { CallSignals } from '../../src/call-signals';
import { CallStore } from '../../src/call-store';
import { CallSweeper } from '../../src/call-sweeper';
import { FanOut } from '../../src/fan-out';
import { FrameHandlers } from '../../src/frame-handlers';
import { InboundLoop } from '../../src/inbound-loop';
import { MembershipStore } from '../../src/membership-store';
import { NoticeLoop } from '../../src/notice-loop';
import { PresenceFrames } from '../../src/presence-frames';
import { registerActiveCallsGauge, routerMetrics } from '../../src/router-metrics';

/** Call settings of a harness (calls.* config; the sweeper runs often so ring timeouts fire promptly). */
export interface HarnessCallOptions {
  readonly ringTimeoutSeconds?: number;
  readonly maxParticipants?: number;
  readonly sweepIntervalMs?: number;
  /** Sweeper passes between two checks of the call connections against presence. */
  readonly routeCheckEveryPasses?: number;
}

/** What the fake gateway saw, in arrival order across both subjects. */
export type GatewayEvent =
  | { kind: 'reply'; reply: Reply; frame: Frame }
  | { kind: 'delivery'; delivery: Delivery }
  | { kind: 'publish-failed'; error: string };

const silent = pino({ level: 'silent' });
export const newId = (prefix: string): string => `${prefix}-${randomBytes(5).toString('hex')}`;

/**
 * A router wired to a real relay and presence (in-process, each on its own gRPC runtime),
 * real Postgres, Redis and NATS, with one fake gateway subscribed to its reply and delivery
 * subjects. The bus has its own namespace (subjects and the inbound stream) so that no other
 * router running on the same NATS can take (or answer) these frames.
 */
export class RouterHarness {
  readonly gatewayId = newId('gw-router-test');
  readonly events: GatewayEvent[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly db: MigratedSchema,
    readonly relayQueue: RelayQueue,
    readonly routes: RouteStore,
    readonly membership: MembershipStore,
    readonly calls: CallStore,
    readonly registry: Registry,
    private readonly bus: Bus,
    private readonly loop: InboundLoop,
    private readonly notices: NoticeLoop,
    private readonly cleanup: Array<() => unknown>,
    /** What the call frames told the media service (call ended, participant joined), in order. */
    readonly mediaSignals: Array<{ signal: 'ended' | 'joined'; callId: string }>,
  ) {}

  static async start(callOptions: HarnessCallOptions = {}): Promise<RouterHarness> {
    const { natsUrl, redisUrl } = stackEnv();
    const cleanup: Array<() => unknown> = [];
    const db = await migratedSchema('router');
    cleanup.push(() => db.drop());
    const telemetry: Telemetry = initTelemetry({ serviceName: 'router-test', logLevel: 'silent' });
    cleanup.push(() => telemetry.shutdown());

    const relayRuntime = createServiceRuntime({ name: 'relay', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry });
    const relayQueue = new RelayQueue({ pool: db.pool, defaultTtlSeconds: 600, metrics: relayMetrics(new Registry()), logger: silent });
    relayRuntime.addGrpcService(RelayServiceService, relayHandlers(relayQueue));
    const relayPorts = await relayRuntime.start();
    cleanup.push(() => relayRuntime.stop());

    const redis: Redis = createRedis(redisUrl);
    cleanup.push(() => redis.quit());
    const routes = new RouteStore(redis, 30_000);
    const presenceRuntime: ServiceRuntime = createServiceRuntime({ name: 'presence', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry });
    presenceRuntime.addGrpcService(PresenceServiceService, presenceHandlers(routes, { changed() {} }));
    const presencePorts = await presenceRuntime.start();
    cleanup.push(() => presenceRuntime.stop());

    const relay = createGrpcClient(RelayServiceClient, `127.0.0.1:${relayPorts.grpcPort}`);
    const presence = createGrpcClient(PresenceServiceClient, `127.0.0.1:${presencePorts.grpcPort}`);
    cleanup.push(() => { relay.close(); presence.close(); });

    const bus = await connectBus({ servers: natsUrl, name: 'router-test', namespace: newId('rt') });
    cleanup.push(() => bus.close());
    cleanup.push(() => bus.removeStream(Streams.routerInbound.name));
    cleanup.push(() => bus.removeStream(Streams.routerNotice.name));
    const membership = new MembershipStore(db.pool);
    const registry = new Registry();
    const stopping = new AbortController();
    const fanOut = new FanOut({ relay, presence, bus, logger: silent, stopping: stopping.signal });
    const friends = { mutualFriendDevices: (userId: string) => friendStore.mutualFriendDevices(db.pool, userId) };
    const presenceFrames = new PresenceFrames({ presence, membership, friends, fanOut, logger: silent });
    const metrics = routerMetrics(registry);
    const callStore = new CallStore(db.pool);
    registerActiveCallsGauge(registry, () => callStore.countActive());
    const mediaSignals: Array<{ signal: 'ended' | 'joined'; callId: string }> = [];
    const signals = new CallSignals({
      fanOut, logger: silent,
      onCallEnded: (callId) => mediaSignals.push({ signal: 'ended', callId }),
      onJoined: (callId) => mediaSignals.push({ signal: 'joined', callId }),
    });
    const calls = new CallFrames({
      store: callStore, membership, signals, localDomain: 'example.org', callsTotal: metrics.callsTotal,
      ringTimeoutSeconds: callOptions.ringTimeoutSeconds ?? 60, maxParticipants: callOptions.maxParticipants ?? 16,
    });
    const loop = new InboundLoop({
      bus, stopping, logger: silent, metrics,
      handlers: new FrameHandlers({ membership, fanOut, presenceFrames, logger: silent, localDomain: 'example.org', calls }),
    });
    const notices = new NoticeLoop({ bus, fanOut, logger: silent });
    cleanup.push(() => bus.removeStream(Streams.routerPresence.name));
    const disconnects = new CallDisconnects({
      store: callStore, signals, logger: silent,
      lookupRoutes: async (deviceIds) => (await callUnary(presence, 'lookupRoutes', { deviceIds }, { deadlineMs: 5_000 })).routes,
    });
    const callPresence = new CallPresenceLoop({ bus, disconnects, logger: silent });
    await callPresence.start();
    const sweeper = new CallSweeper({
      store: callStore, signals, logger: silent, disconnects,
      intervalMs: callOptions.sweepIntervalMs ?? 200, routeCheckEveryPasses: callOptions.routeCheckEveryPasses ?? 5,
    });
    sweeper.start();
    // Stopped after the inbound loop, whose stop() aborts `stopping` (as in main.ts).
    cleanup.push(() => callPresence.stop());
    cleanup.push(() => sweeper.stop());
    cleanup.push(() => notices.stop());
    cleanup.push(() => loop.stop());
    const harness = new RouterHarness(db, relayQueue, routes, membership, callStore, registry, bus, loop, notices, cleanup, mediaSignals);
    await harness.listen();
    return harness;
  }

  private async listen(): Promise<void> {
    const params = { gatewayId: this.gatewayId };
    this.bus.subscribe(Subjects.gatewayReply, params, (reply) => {
      this.record({ kind: 'reply', reply, frame: decodeFrame(reply.frame).frame });
    });
    this.bus.subscribe(Subjects.gatewayDelivery, params, (delivery) => this.record({ kind: 'delivery', delivery }));
    await this.loop.start();
    await this.notices.start();
  }

  /** Waits until the subscriptions are registered with the server, so nothing published later is missed. */
  async ready(): Promise<void> {
    await this.bus.ready();
  }

  private record(event: GatewayEvent): void {
    this.events.push(event);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async stop(): Promise<void> {
    // Last started, first stopped: the loop before the bus, the services before the database.
    for (const step of this.cleanup.reverse()) await step();
  }

  /** Publishes a frame as the gateway would, from `deviceId` on `connectionId`. */
  send(deviceId: string, connectionId: string, frame: Frame | Uint8Array, opts: { idempotentSend?: boolean } = {}): void {
    // Stored in the router's work queue like a gateway's; publishes keep their order on one connection.
    void this.bus.publishDurable(Subjects.routerInbound, {}, {
      deviceId, userId: `user-of-${deviceId}`, userHandle: `handle-of-${deviceId}`, gatewayId: this.gatewayId, connectionId,
      frame: Buffer.from(frame instanceof Uint8Array ? frame : encodeFrame(frame)), receivedAt: Date.now(),
      idempotentSend: opts.idempotentSend ?? false, mediaHeader: false,
    }).catch((err: unknown) => this.record({ kind: 'publish-failed', error: String(err) }));
  }

  /** Publishes a server notice to the router's notice stream, as directory does after a key rotation. */
  async notify(notice: Notice): Promise<void> {
    await this.bus.publishDurable(Subjects.routerNotice, {}, notice);
  }

  /** Registers the device as online on this fake gateway. */
  async online(deviceId: string, connectionId: string): Promise<void> {
    await this.routes.register({ deviceId, userId: `user-of-${deviceId}`, gatewayId: this.gatewayId, connectionId, connectedAt: Date.now(), user: null });
  }

  /**
   * The device's connection closed: its route goes and presence announces it, as presence does
   * when a gateway unregisters a connection (a core publish the router's stream keeps).
   */
  async offline(deviceId: string, connectionId: string): Promise<void> {
    const [route] = await this.routes.lookup([deviceId]);
    if (route) await this.routes.remove(route, connectionId);
    this.bus.publish(Subjects.presenceChanged, {}, {
      deviceId, userId: `user-of-${deviceId}`, state: 'offline', gatewayId: this.gatewayId, connectionId, at: Date.now(),
    });
  }

  /** The first event after index `from` that matches, waiting up to `timeoutMs` for it. */
  async next(match: (event: GatewayEvent) => boolean, from = 0, timeoutMs = 5_000): Promise<GatewayEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching gateway event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** The reply to the next frame of `connectionId` (after event index `from`). */
  async replyTo(connectionId: string, from = 0): Promise<Frame> {
    const event = await this.next((e) => e.kind === 'reply' && e.reply.connectionId === connectionId, from);
    return (event as Extract<GatewayEvent, { kind: 'reply' }>).frame;
  }
}
