import { CodecError, decodeFrame, FrameType, type Frame } from '@commucat/ccp1';
import type { Logger } from 'pino';
import type { MediaFraming } from '@commucat/contracts';
import { retryDelays } from '@commucat/service-kit';
import { context, type Context } from '@commucat/telemetry';
import type { InboxAccess } from './inbox-delivery.js';
import { frameForConnection } from './media-framing.js';
import { RecentSeqs } from './recent-seqs.js';

/** When a live delivery's frame was received by the sender's gateway and accepted by the router (ms since the epoch, 0 unknown). */
export interface DeliveryTiming {
  readonly receivedAt: number;
  readonly acceptedAt: number;
}

/** What became of one live delivery. */
export type DeliveryOutcome = 'written' | 'held_for_drain' | 'already_sent' | 'closed' | 'dropped';

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
  /** A live delivery (not an inbox drain) was written, now or after the drain it waited for. */
  readonly onLiveWritten?: (timing: DeliveryTiming) => void;
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
  /** Live deliveries waiting for the drain, each with the trace context it arrived in. */
  private pendingLive: Array<{ frame: Buffer; relaySeq: number; media?: MediaFraming; timing?: DeliveryTiming; ctx: Context }> = [];
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
      for (const d of live) context.with(d.ctx, () => this.deliver(d.frame, d.relaySeq, d.media, d.timing));
    }
  }

  /**
   * A frame for this device from elsewhere; `relaySeq` > 0 means it sits in the relay inbox.
   * `media` says how a media frame's payload is framed (see media-framing.ts).
   */
  deliver(frame: Buffer, relaySeq: number, media?: MediaFraming, timing?: DeliveryTiming): DeliveryOutcome {
    if (!this.options.isOpen()) return 'closed'; // it stays in the inbox for the next connect
    if (this.draining) {
      this.pendingLive.push({ frame, relaySeq, media, timing, ctx: context.active() });
      return 'held_for_drain';
    }
    if (relaySeq > 0 && relaySeq <= this.lastDrainedSeq) return 'already_sent'; // the drain already sent it
    if (!this.write(frame, relaySeq, media)) return relaySeq > 0 && this.written.has(relaySeq) ? 'already_sent' : 'dropped';
    // Media has its own clock (50 frames a second, transcoded): the latency histogram is for messages.
    if (timing !== undefined && media === undefined) this.options.onLiveWritten?.(timing);
    return 'written';
  }

  /** The device acknowledged these relay seqs (relay-ack clients only). */
  acknowledgeFromDevice(seqs: readonly number[]): void {
    for (const seq of seqs) this.acknowledgeLater(seq);
  }

  /** Writes one frame; false when it was not written (a repeat, undecodable, not for this client). */
  private write(bytes: Buffer, relaySeq: number, media?: MediaFraming): boolean {
    if (relaySeq > 0) {
      if (this.written.has(relaySeq)) return false;
      this.written.add(relaySeq);
    }
    let frame: Frame;
    try {
      frame = decodeFrame(bytes).frame;
    } catch (err) {
      // The reference drops undecodable inbox entries without notice; so do we, loudly.
      this.options.logger.warn({ code: (err as CodecError).code, relay_seq: relaySeq }, 'dropping an undecodable delivery');
      if (relaySeq > 0) this.acknowledgeLater(relaySeq);
      return false;
    }
    if (frame.type === FrameType.TransportUpdate && !this.options.acceptsTransportUpdate) {
      if (relaySeq > 0) this.acknowledgeLater(relaySeq);
      return false;
    }
    frame = frameForConnection(frame, media, this.options.mediaHeader ?? false);
    if (this.options.relayAck) {
      // The relay seq is the device's handle for acknowledging; 0 marks a live-only frame.
      this.options.write({ ...frame, sequence: relaySeq });
      return true;
    }
    this.options.write({ ...frame, sequence: this.deliverySequence });
    this.deliverySequence = this.deliverySequence >= 0xffffffff ? 1 : this.deliverySequence + 1;
    if (relaySeq > 0) this.acknowledgeLater(relaySeq);
    return true;
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
