import type { Logger } from 'pino';
import { Streams, Subjects, type Bus, type DurableConsumer } from '@commucat/bus';
import { decodeVarint } from '@commucat/ccp1';
import type { InboundFrame } from '@commucat/contracts';
import type { FrameHandlers } from './frame-handlers.js';
import type { RouterMetrics } from './router-metrics.js';
import { RouterStopping } from './errors.js';
import { KeyedSerialQueue } from './serial-queue.js';
import { context, recordSpanError, startChildSpan } from '@commucat/telemetry';

export interface InboundLoopOptions {
  readonly bus: Bus;
  readonly handlers: FrameHandlers;
  readonly metrics: RouterMetrics;
  readonly logger: Logger;
  /** Aborted first thing in stop(), so frames waiting on a dependency give up (RouterStopping). */
  readonly stopping: AbortController;
}

/** Frames handled at once by one router process (across different channels). */
const MAX_IN_FLIGHT = 256;
/** The work-queue consumer's name; one router process at a time owns it (see start()). */
const DURABLE = 'router';
/**
 * Redelivery to a live router would run a frame twice, out of order, so the ack wait is far
 * beyond any frame's handling time (relay calls retry with backoff while relay restarts).
 */
const ACK_WAIT_MS = 10 * 60_000;

/**
 * Takes every post-handshake frame the gateways stored in the router's JetStream work queue,
 * handles it, publishes the reply to the gateway holding the sender's connection, and only then
 * acknowledges it on the bus. A router killed mid-frame therefore loses nothing: the next router
 * process starts with the frames it left, in their original order (an exclusive consumer), and
 * relay's idempotent enqueue turns a frame handled twice into one envelope.
 *
 * Order: frames of one channel are handled strictly one after another in stream order; frames
 * of different channels run concurrently (up to MAX_IN_FLIGHT), since a Msg spends most of its
 * time waiting on Postgres and presence. One router process consumes at a time; scaling out needs
 * per-channel partitioning (a stream subject per channel shard, one consumer per shard).
 */
export class InboundLoop {
  private readonly queue = new KeyedSerialQueue();
  private consumer: DurableConsumer | undefined;

  constructor(private readonly options: InboundLoopOptions) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    const { bus } = this.options;
    await bus.ensureStream(Streams.routerInbound);
    this.consumer = await bus.consumeDurable(Subjects.routerInbound, {
      stream: Streams.routerInbound.name,
      durable: DURABLE,
      exclusive: true,
      ackWaitMs: ACK_WAIT_MS,
      // The bus starts handlers in stream order, and each one joins its channel's queue at once,
      // so per-channel order holds however many are in flight.
      concurrency: MAX_IN_FLIGHT,
      // A RouterStopping frame is nak'ed; the next process recreates the consumer and starts with it.
      nakDelayMs: ACK_WAIT_MS,
      handler: (inbound) => this.queue.run(channelKey(inbound.frame), () => this.process(inbound)),
    });
  }

  /**
   * Stops taking frames. Frames already being handled finish (answered, then acknowledged on the
   * bus) unless they are waiting for relay; those, and frames not started yet, are left for the
   * next router process.
   */
  async stop(): Promise<void> {
    this.options.stopping.abort();
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.stop();
    await this.queue.idle();
  }

  private async process(inbound: InboundFrame): Promise<void> {
    const { handlers, metrics, logger, bus, stopping } = this.options;
    // A frame that has not started when stopping begins is left whole for the next process, so
    // it cannot overtake an earlier frame of its channel that gave up waiting.
    if (stopping.signal.aborted) throw new RouterStopping();
    const started = process.hrtime.bigint();
    // A child of this frame's bus consumer span (its own trace, continued from the gateway); the
    // relay, presence and federation calls and the delivery and reply publishes hang under it.
    const { span, ctx } = startChildSpan('router.handle', {
      'commucat.device_id': inbound.deviceId, 'commucat.gateway_id': inbound.gatewayId, 'commucat.connection_id': inbound.connectionId,
    });
    try {
      await context.with(ctx, async () => {
        const outcome = await handlers.handle(inbound);
        span.updateName(`router.handle ${outcome.type}`);
        span.setAttributes({ 'ccp1.frame.type': outcome.type, 'commucat.result': outcome.result });
        if (outcome.reply) {
          try {
            bus.publish(Subjects.gatewayReply, { gatewayId: inbound.gatewayId }, {
              deviceId: inbound.deviceId, connectionId: inbound.connectionId, frame: outcome.reply,
            });
          } catch (err) {
            logger.warn({ err, deviceId: inbound.deviceId, gatewayId: inbound.gatewayId }, 'reply publish failed');
          }
        }
        logger.debug({ type: outcome.type, result: outcome.result, device_id: inbound.deviceId }, 'frame handled');
        metrics.frames.inc({ type: outcome.type, result: outcome.result });
        metrics.handleSeconds.observe({ type: outcome.type }, Number(process.hrtime.bigint() - started) / 1e9);
      });
    } catch (err) {
      recordSpanError(span, err);
      throw err;
    } finally {
      span.end();
    }
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
