import { Streams, Subjects, type Bus } from '@commucat/bus';
import type { Notice } from '@commucat/contracts';

/** Hands server-originated frames (KEY_UPDATE, …) to the router's notice queue. */
export interface NoticePublisher {
  /** Resolves once the notice is stored durably; rejects when it could not be. */
  publish(notice: Notice): Promise<void>;
}

/** The notice stream on the fleet bus; the stream is created on first use. */
export class BusNoticePublisher implements NoticePublisher {
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
