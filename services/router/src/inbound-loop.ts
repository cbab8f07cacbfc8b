import type { Logger } from 'pino';
import { Subjects, type Bus, type BusSubscription, type SubjectDef } from '@commucat/bus';
import type { InboundFrame } from '@commucat/contracts';
import type { FrameHandlers } from './frame-handlers.js';
import type { RouterMetrics } from './router-metrics.js';
import { decodeVarint } from '@commucat/ccp1';
import { KeyedSerialQueue } from './serial-queue.js';

export interface InboundLoopOptions {
  readonly bus: Bus;
  readonly handlers: FrameHandlers;
  readonly metrics: RouterMetrics;
  readonly logger: Logger;
  /** Where gateways publish inbound frames (default Subjects.routerInbound; tests use their own). */
  readonly subject?: SubjectDef<InboundFrame, never>;
  /** NATS queue group shared by the router replicas (default 'router'). */
  readonly queue?: string;
}

/** Frames handled at once by one router process (across different channels). */
const MAX_IN_FLIGHT = 256;

/**
 * Takes every post-handshake frame the gateways publish, handles them, and publishes each reply
 * to the gateway holding the sender's connection.
 *
 * Order: frames of one channel are handled strictly one after another in arrival order; frames
 * of different channels run concurrently (up to MAX_IN_FLIGHT), since a Msg spends most of its
 * time waiting on Postgres and presence. Several router replicas in one queue group would each
 * take a share of the frames and could reorder a channel; scaling out needs per-channel
 * partitioning (e.g. a subject per channel shard, one consumer per shard) — future work.
 */
export class InboundLoop {
  private readonly queue = new KeyedSerialQueue();
  private subscription: BusSubscription | undefined;

  constructor(private readonly options: InboundLoopOptions) {}

  start(): void {
    if (this.subscription) return;
    const { bus } = this.options;
    this.subscription = bus.subscribe(this.options.subject ?? Subjects.routerInbound, {}, (inbound) => this.queue.run(channelKey(inbound.frame), () => this.process(inbound)), {
      queue: this.options.queue ?? 'router',
      // The bus starts handlers in arrival order, and each one joins its channel's queue at once,
      // so per-channel order holds however many are in flight.
      concurrency: MAX_IN_FLIGHT,
    });
  }

  /** Stops taking frames and waits until the ones already taken are handled and answered. */
  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription) await subscription.drain();
    await this.queue.idle();
  }

  private async process(inbound: InboundFrame): Promise<void> {
    const { handlers, metrics, logger, bus } = this.options;
    const started = process.hrtime.bigint();
    const outcome = await handlers.handle(inbound);
    if (outcome.reply) {
      try {
        bus.publish(Subjects.gatewayReply, { gatewayId: inbound.gatewayId }, {
          deviceId: inbound.deviceId, connectionId: inbound.connectionId, frame: outcome.reply,
        });
      } catch (err) {
        logger.warn({ err, deviceId: inbound.deviceId, gatewayId: inbound.gatewayId }, 'reply publish failed');
      }
    }
    metrics.frames.inc({ type: outcome.type, result: outcome.result });
    metrics.handleSeconds.observe({ type: outcome.type }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** The channel of an encoded frame, read from its header without decoding the payload. */
function channelKey(frame: Uint8Array): string {
  try {
    const len = decodeVarint(frame, 0);
    return `ch:${decodeVarint(frame, len.length + 1).value}`;
  } catch {
    return 'undecodable'; // answered with a decode Error; one shared key keeps those in order too
  }
}
