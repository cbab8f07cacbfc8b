import type { Notice } from '@commucat/contracts';

/** Hands server-originated frames (KEY_UPDATE, …) to the router's notice queue (RouterNoticePublisher from @commucat/bus). */
export interface NoticePublisher {
  /** Resolves once the notice is stored durably; rejects when it could not be. */
  publish(notice: Notice): Promise<void>;
}
