import type { Logger } from 'pino';
import { Streams, Subjects, type Bus, type DurableConsumer } from '@commucat/bus';
import type { Notice } from '@commucat/contracts';
import type { FanOut } from './fan-out.js';
import { isRouterError } from './errors.js';

export interface NoticeLoopOptions {
  readonly bus: Bus;
  readonly fanOut: Pick<FanOut, 'queueAndDeliver' | 'deliverLive'>;
  readonly logger: Logger;
}

/** Its own consumer of its own stream: notices never wait behind (or hold up) device frames. */
const DURABLE = 'router-notices';
/** A queued notice waits out a relay restart inside queueAndDeliver; far beyond that, redeliver. */
const ACK_WAIT_MS = 10 * 60_000;
const NAK_DELAY_MS = 5_000;

/**
 * Takes the frames the server sends on its own (KEY_UPDATE after a device key rotation, …) from
 * the router's notice stream and fans each out to the devices it names: queued in relay and then
 * delivered live (`queue`), or only to the devices online now. Acknowledged on the bus once relay
 * holds it, so a router dying mid-notice leaves it to the next process; relay's idempotency on
 * the notice's message id turns a notice handled twice into one envelope per device.
 */
export class NoticeLoop {
  private consumer: DurableConsumer | undefined;

  constructor(private readonly options: NoticeLoopOptions) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    const { bus } = this.options;
    await bus.ensureStream(Streams.routerNotice);
    this.consumer = await bus.consumeDurable(Subjects.routerNotice, {
      stream: Streams.routerNotice.name,
      durable: DURABLE,
      exclusive: true,
      ackWaitMs: ACK_WAIT_MS,
      nakDelayMs: NAK_DELAY_MS,
      handler: (notice) => this.process(notice),
    });
  }

  /** Stops taking notices; the one in progress finishes or is left (unacknowledged) for the next process. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.stop();
  }

  private async process(notice: Notice): Promise<void> {
    const { fanOut, logger } = this.options;
    const outgoing = { channelId: notice.channelId, senderDeviceId: '', messageId: notice.messageId, frame: notice.frame };
    const recipients = [...new Set(notice.deviceIds)];
    try {
      if (notice.queue) await fanOut.queueAndDeliver(outgoing, recipients);
      else await fanOut.deliverLive(outgoing, recipients);
    } catch (err) {
      // Relay refused it (malformed notice): retrying cannot help, so it is dropped, loudly.
      if (isRouterError(err) && err.code === 'invalid') {
        logger.error({ err, messageId: notice.messageId }, 'notice refused by relay; dropped');
        return;
      }
      throw err; // nak'ed: presence or relay trouble, or the router stopping
    }
  }
}
