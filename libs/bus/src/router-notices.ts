import type { Notice } from '@commucat/contracts';
import type { Bus } from './bus-types';
import { Streams } from './streams';
import { Subjects } from './subjects';

/**
 * Hands server-originated frames (KEY_UPDATE, frames from a federated peer, …) to the router's
 * durable notice queue. `publish` resolves once JetStream stored the notice.
 */
export class RouterNoticePublisher {
  private stream: Promise<void> | undefined;

  constructor(private readonly bus: Pick<Bus, 'ensureStream' | 'publishDurable'>) {}

  async publish(notice: Notice): Promise<void> {
    this.stream ??= this.bus.ensureStream(Streams.routerNotice).catch((err: unknown) => {
      this.stream = undefined; // try again with the next notice
      throw err;
    });
    await this.stream;
    // The message id doubles as the stream's de-duplication id: a retried publish is stored once.
    await this.bus.publishDurable(Subjects.routerNotice, {}, notice, { msgId: notice.messageId });
  }
}
