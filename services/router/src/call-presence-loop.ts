import type { Logger } from 'pino';
import { Streams, Subjects, type Bus, type DurableConsumer } from '@commucat/bus';
import type { PresenceChanged } from '@commucat/contracts';
import type { CallDisconnects } from './call-disconnects.js';

export interface CallPresenceLoopOptions {
  readonly bus: Pick<Bus, 'ensureStream' | 'consumeDurable'>;
  readonly disconnects: CallDisconnects;
  readonly logger: Logger;
}

/** Shared by every router replica: each event goes to one of them. */
const DURABLE = 'router-calls';
const CONCURRENCY = 16;

/**
 * Turns presence's `offline` events into CallDisconnects (the synthetic CallEnd failure of spec
 * calls-media §3.4). Events for devices in no call cost one indexed query.
 */
export class CallPresenceLoop {
  private consumer: DurableConsumer | undefined;

  constructor(private readonly options: CallPresenceLoopOptions) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    await this.options.bus.ensureStream(Streams.routerPresence);
    this.consumer = await this.options.bus.consumeDurable(Subjects.presenceChanged, {
      stream: Streams.routerPresence.name,
      durable: DURABLE,
      concurrency: CONCURRENCY,
      ackWaitMs: 60_000,
      nakDelayMs: 1_000,
      handler: (event) => this.handle(event),
    });
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.stop();
  }

  private async handle(event: PresenceChanged): Promise<void> {
    if (event.state !== 'offline' || !event.deviceId || !event.connectionId) return;
    await this.options.disconnects.disconnected(event.deviceId, event.connectionId);
  }
}
