import type { Logger } from 'pino';
import { Subjects, type Bus, type BusSubscription, type SubjectDef } from '@commucat/bus';
import type { InboundFrame } from '@commucat/contracts';
import type { FrameHandlers } from './frame-handlers.js';
import type { RouterMetrics } from './router-metrics.js';
import { SerialQueue } from './serial-queue.js';

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

/**
 * Takes every post-handshake frame the gateways publish, handles them one at a time in arrival
 * order, and publishes each reply to the gateway holding the sender's connection.
 *
 * Order: one router process handles frames strictly serially, so each channel's frames keep
 * their arrival order. Several router replicas in one queue group would each take a share of
 * the frames and could reorder a channel; scaling out needs per-channel partitioning (e.g. a
 * subject per channel shard, one consumer per shard) — future work.
 */
export class InboundLoop {
  private readonly queue = new SerialQueue();
  private subscription: BusSubscription | undefined;

  constructor(private readonly options: InboundLoopOptions) {}

  start(): void {
    if (this.subscription) return;
    const { bus } = this.options;
    this.subscription = bus.subscribe(this.options.subject ?? Subjects.routerInbound, {}, (inbound) => this.queue.run(() => this.process(inbound)), {
      queue: this.options.queue ?? 'router',
      concurrency: 1,
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
