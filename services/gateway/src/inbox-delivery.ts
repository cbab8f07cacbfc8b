import type { RelayServiceClient } from '@commucat/contracts';
import { callUnary } from '@commucat/service-kit';

/** What a session needs from relay: ordered pages of its inbox and removal of what it wrote. */
export interface InboxAccess {
  drain(deviceId: string, afterSeq: number): Promise<{ envelopes: Array<{ frame: Buffer; seq: number }>; more: boolean }>;
  acknowledge(deviceId: string, seqs: number[]): Promise<void>;
}

const DRAIN_PAGE = 256;

export function relayInbox(client: RelayServiceClient): InboxAccess {
  return {
    async drain(deviceId, afterSeq) {
      const page = await callUnary(client, 'drain', { deviceId, afterSeq, limit: DRAIN_PAGE }, { deadlineMs: 5000, waitForReady: true });
      return { envelopes: page.envelopes.map((e) => ({ frame: Buffer.from(e.frame), seq: e.seq })), more: page.more };
    },
    async acknowledge(deviceId, seqs) {
      if (seqs.length === 0) return;
      await callUnary(client, 'acknowledge', { deviceId, upToSeq: 0, seqs }, { deadlineMs: 5000, waitForReady: true });
    },
  };
}
