import { CodecError, decodeFrame, FrameType, type Frame } from '@commucat/ccp1';
import type { Logger } from 'pino';
import type { MediaFraming } from '@commucat/contracts';
import { retryDelays } from '@commucat/service-kit';
import type { InboxAccess } from './inbox-delivery.js';
import { frameForConnection } from './media-framing.js';
import { RecentSeqs } from './recent-seqs.js';

export interface DeliveryStreamOptions {
  readonly deviceId: string;
  readonly inbox: InboxAccess;
  /**
   * The client announced `relay-ack`: a queued frame carries its relay seq as its sequence and
   * leaves the inbox when the device acknowledges it. Otherwise (the real client cannot ack) it
   * leaves once written here, and sequences come from the connection's delivery counter.
   */
  readonly relayAck: boolean;
  /** TransportUpdate (0x14) goes only to clients that opted in (trap T4). */
  readonly acceptsTransportUpdate: boolean;
  /** The client announced `media-header-v1`: media payloads carry the 3-byte header. */
  readonly mediaHeader?: boolean;
  /** Writes one frame to the connection; the stream is still open when it is called. */
  readonly write: (frame: Frame) => void;
  readonly isOpen: () => boolean;
  readonly logger: Logger;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;
/** A failed relay acknowledgement is retried this often; after that the envelope comes back on the next connect. */
const ACK_ATTEMPTS = 5;

/**
 * Everything addressed to one connection's device, in order: first its whole relay inbox (spec
 * §7.2, without the reference's 128 cap), then live deliveries, which wait while the drain runs.
 * A delivery the drain already wrote (or a repeated one) is written once.
 */
export class DeliveryStream {
  private draining = true;
  private pendingLive: Array<{ frame: Buffer; relaySeq: number; media?: MediaFraming }> = [];
  private lastDrainedSeq = 0;
  private readonly written = new RecentSeqs();
  /** Frames from other devices, drained inbox frames and notices use this counter (spec §7.1). */
  private deliverySequence = 1;
  private acksToSend: number[] = [];

  constructor(private readonly options: DeliveryStreamOptions) {}

  /** Drains the inbox page by page, waiting out a relay restart, then lets live traffic through. */
  async start(): Promise<void> {
    const { inbox, deviceId, isOpen, logger } = this.options;
    try {
      let delays = retryDelays(RETRY_FIRST_MS, RETRY_MAX_MS);
      for (let more = true; more && isOpen();) {
        let page;
        try {
          page = await inbox.drain(deviceId, this.lastDrainedSeq);
        } catch (err) {
          // Giving up would leave the inbox unsent until the next connect, and live traffic
          // would overtake it: wait for relay instead.
          const delay = delays.next();
          logger.warn({ err: (err as Error).message, retry_in_ms: delay }, 'inbox drain failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        delays = retryDelays(RETRY_FIRST_MS, RETRY_MAX_MS);
        if (!isOpen()) return;
        for (const envelope of page.envelopes) {
          this.write(envelope.frame, envelope.seq);
          this.lastDrainedSeq = envelope.seq;
        }
        more = page.more && page.envelopes.length > 0;
      }
    } finally {
      this.draining = false;
      const live = this.pendingLive;
      this.pendingLive = [];
      for (const d of live) this.deliver(d.frame, d.relaySeq, d.media);
    }
  }

  /**
   * A frame for this device from elsewhere; `relaySeq` > 0 means it sits in the relay inbox.
   * `media` says how a media frame's payload is framed (see media-framing.ts).
   */
  deliver(frame: Buffer, relaySeq: number, media?: MediaFraming): void {
    if (!this.options.isOpen()) return; // it stays in the inbox for the next connect
    if (this.draining) {
      this.pendingLive.push({ frame, relaySeq, media });
      return;
    }
    if (relaySeq > 0 && relaySeq <= this.lastDrainedSeq) return; // the drain already sent it
    this.write(frame, relaySeq, media);
  }

  /** The device acknowledged these relay seqs (relay-ack clients only). */
  acknowledgeFromDevice(seqs: readonly number[]): void {
    for (const seq of seqs) this.acknowledgeLater(seq);
  }

  private write(bytes: Buffer, relaySeq: number, media?: MediaFraming): void {
    if (relaySeq > 0) {
      if (this.written.has(relaySeq)) return;
      this.written.add(relaySeq);
    }
    let frame: Frame;
    try {
      frame = decodeFrame(bytes).frame;
    } catch (err) {
      // The reference drops undecodable inbox entries without notice; so do we, loudly.
      this.options.logger.warn({ code: (err as CodecError).code, relay_seq: relaySeq }, 'dropping an undecodable delivery');
      if (relaySeq > 0) this.acknowledgeLater(relaySeq);
      return;
    }
    if (frame.type === FrameType.TransportUpdate && !this.options.acceptsTransportUpdate) {
      if (relaySeq > 0) this.acknowledgeLater(relaySeq);
      return;
    }
    frame = frameForConnection(frame, media, this.options.mediaHeader ?? false);
    if (this.options.relayAck) {
      // The relay seq is the device's handle for acknowledging; 0 marks a live-only frame.
      this.options.write({ ...frame, sequence: relaySeq });
      return;
    }
    this.options.write({ ...frame, sequence: this.deliverySequence });
    this.deliverySequence = this.deliverySequence >= 0xffffffff ? 1 : this.deliverySequence + 1;
    if (relaySeq > 0) this.acknowledgeLater(relaySeq);
  }

  /** Batches relay acknowledgements of one tick into one call. */
  private acknowledgeLater(relaySeq: number): void {
    this.acksToSend.push(relaySeq);
    if (this.acksToSend.length > 1) return;
    setImmediate(() => {
      const seqs = this.acksToSend;
      this.acksToSend = [];
      void this.acknowledge(seqs);
    });
  }

  /** If every attempt fails the envelopes come back on the next connect: at least once, never lost. */
  private async acknowledge(seqs: number[]): Promise<void> {
    const delays = retryDelays(RETRY_FIRST_MS, RETRY_MAX_MS);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.inbox.acknowledge(this.options.deviceId, seqs);
        return;
      } catch (err) {
        if (attempt >= ACK_ATTEMPTS) {
          this.options.logger.warn({ err: (err as Error).message, count: seqs.length }, 'relay acknowledgement failed');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delays.next()));
      }
    }
  }
}
