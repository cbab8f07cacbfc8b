import type { Logger } from 'pino';
import { controlFrame, encodeFrame, FrameType, type JsonValue } from '@commucat/ccp1';
import type { CallView } from './call-store.js';
import { isRouterError } from './errors.js';
import type { FanOut, Outgoing } from './fan-out.js';

export interface CallSignalsOptions {
  readonly fanOut: Pick<FanOut, 'queueAndDeliver' | 'deliverLive'>;
  readonly logger: Logger;
  /** Told when a call is over for everyone (the media service then closes its encoders). */
  readonly onCallEnded?: (callId: string) => void;
  /** Told when a participant joined a call (its video encoders then send a keyframe for it). */
  readonly onJoined?: (callId: string) => void;
}

/**
 * Sends call signalling to participants. The reference queues every signalling frame for offline
 * devices for a whole day, so a device that reconnects later rings for a call long gone (spec
 * calls-media §3.5). Here a frame is queued only while the call may still ring, and expires in
 * relay no later than the ring deadline; after the deadline call frames go live only, to the
 * devices online at that moment. A device that reconnects before the deadline therefore gets the
 * offer and every later frame of the call (including its end), and one that comes back after it
 * gets nothing of the call.
 */
export class CallSignals {
  constructor(private readonly options: CallSignalsOptions) {}

  /** The call is over for everyone. */
  callEnded(callId: string): void {
    try {
      this.options.onCallEnded?.(callId);
    } catch (err) {
      // Encoders of an ended call also close when their stream goes idle.
      this.options.logger.warn({ err, callId }, 'could not announce the end of a call');
    }
  }

  /** A participant accepted the call: it needs a keyframe before it can show any video. */
  joined(callId: string): void {
    try {
      this.options.onJoined?.(callId);
    } catch (err) {
      // Without it the new participant waits for the encoder's periodic keyframe.
      this.options.logger.warn({ err, callId }, 'could not ask for a keyframe');
    }
  }

  /** `liveOnly`: never queued (CallStats: telemetry nobody needs later). */
  async send(call: CallView, message: Omit<Outgoing, 'channelId'>, recipients: readonly string[], liveOnly = false): Promise<void> {
    if (recipients.length === 0) return;
    const outgoing: Outgoing = { ...message, channelId: call.channelId };
    // Whole seconds, rounded down, so the envelope never outlives the ring.
    const ttlSeconds = Math.floor((call.ringDeadline.getTime() - Date.now()) / 1000);
    if (ttlSeconds >= 1 && !liveOnly) {
      await this.options.fanOut.queueAndDeliver(outgoing, recipients, { ttlSeconds });
      return;
    }
    try {
      await this.options.fanOut.deliverLive(outgoing, recipients);
    } catch (err) {
      // The call's state has changed already; a lost live frame is not worth failing the sender's frame.
      if (!isRouterError(err)) throw err;
      this.options.logger.warn({ err, callId: call.callId }, 'live delivery of a call frame failed');
    }
  }

  /**
   * A CallEnd the server sends on its own (ring timeout, disconnect, last rejection). `metadata`
   * says why (`system: true`, `cause`, `device`); `call_ended` tells a multi-party client whether
   * the whole call is over or only `device` left it.
   */
  async sendEnd(call: CallView, end: { reason: string; cause: string; device?: string; callEnded: boolean; event: string }, recipients: readonly string[]): Promise<void> {
    const metadata: Record<string, JsonValue> = { system: true, cause: end.cause };
    if (end.device !== undefined) metadata.device = end.device;
    metadata.call_ended = end.callEnded;
    if (end.callEnded) this.callEnded(call.callId);
    const frame = encodeFrame(controlFrame(FrameType.CallEnd, call.channelId, 0, { call_id: call.callId, reason: end.reason, metadata }));
    // Stable per event, so relay stores it once even if this runs twice.
    await this.send(call, { senderDeviceId: '', messageId: `call:${call.callId}:${end.event}`, frame }, recipients);
  }
}
