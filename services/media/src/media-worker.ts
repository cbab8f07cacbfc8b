/**
 * The media replica's work loop (spec calls-media §9.1, contract in proto media.proto): raw frames
 * arrive on this replica's own input subject, each (call, sender, kind, stream tag) gets its
 * encoder lazily from the profile in the frame, and every encoded packet goes back to the routers.
 * Frames with a source codec are encoded VP8/VP9 to transcode for the receivers of that tag. A frame the
 * service cannot take is answered with MediaRefused and the stream carries on. The replica
 * announces itself every 250 ms so routers hash calls only over live replicas.
 */
import { Subjects, type Bus, type BusSubscription } from '@commucat/bus';
import { context, unsampledContext } from '@commucat/telemetry';
import type { MediaCallEnded, MediaInput } from '@commucat/contracts';
import { MediaError, isMediaKind, type MediaErrorCode } from '@commucat/media-format';
import type { Logger } from 'pino';
import type { MediaDropReason, MediaMetrics } from './media-metrics.js';
import {
  openMediaStream, streamKeyOf, streamSetupOf, type EncodedPacket, type EncoderTuning, type FrameRouting, type MediaStream, type TranscodeRequest,
} from './media-stream.js';
import { isSourceVideoCodec } from './source-frame.js';

export interface MediaWorkerOptions {
  readonly bus: Bus;
  /** This replica's id: its input subject and the id in its heartbeats. */
  readonly replicaId: string;
  readonly logger: Logger;
  readonly metrics?: MediaMetrics;
  /** Default 250 ms (routers consider a replica dead after 1 s of silence). */
  readonly heartbeatIntervalMs?: number;
  /** A stream without frames for this long is closed; default 10 s. */
  readonly idleTimeoutMs?: number;
  /**
   * After a call ends, frames of it still in flight are dropped for this long instead of starting
   * a new encoder (and ffmpeg) that would only idle out; default 2 s.
   */
  readonly endedCallGraceMs?: number;
  /** Encoder speed/quality settings (config media.opus_complexity, media.vp8_cpu_used). */
  readonly tuning?: EncoderTuning;
  /** A transcoder whose decoder returns nothing for this long is restarted; default 1 s. */
  readonly transcodeStallTimeoutMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 250;
const DEFAULT_IDLE_MS = 10_000;
const DEFAULT_ENDED_GRACE_MS = 2_000;

/** The metric reason for frames refused before any encoder saw them (encoders count their own). */
const REFUSAL_REASON: Partial<Record<MediaErrorCode, MediaDropReason>> = {
  bad_envelope: 'bad_frame', unknown_codec: 'bad_frame', bad_profile: 'bad_frame', unsupported: 'unsupported', unsupported_codec: 'unsupported',
};

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class MediaWorker {
  readonly replicaId: string;
  private readonly bus: Bus;
  private readonly logger: Logger;
  private readonly metrics: MediaMetrics | undefined;
  private readonly heartbeatIntervalMs: number;
  private readonly idleTimeoutMs: number;
  private readonly endedCallGraceMs: number;
  private readonly tuning: EncoderTuning | undefined;
  private readonly transcodeStallTimeoutMs: number | undefined;
  private readonly streams = new Map<string, MediaStream>();
  /** Calls ended recently: callId → performance.now() of the end. */
  private readonly endedCalls = new Map<string, number>();
  /** Encoder closes still running (ffmpeg exiting); stop() waits for them. */
  private readonly closing = new Set<Promise<void>>();
  private readonly subscriptions: BusSubscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Frames dropped by streams that are closed now (live streams report their own). */
  private droppedByClosedStreams = 0;
  private state: 'created' | 'running' | 'stopped' = 'created';
  private stopping: Promise<void> | undefined;

  constructor(options: MediaWorkerOptions) {
    if (!/^[A-Za-z0-9_-]+$/.test(options.replicaId)) throw new RangeError(`media replica id ${JSON.stringify(options.replicaId)} is not one subject token`);
    this.replicaId = options.replicaId;
    this.bus = options.bus;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    this.endedCallGraceMs = options.endedCallGraceMs ?? DEFAULT_ENDED_GRACE_MS;
    this.tuning = options.tuning;
    this.transcodeStallTimeoutMs = options.transcodeStallTimeoutMs;
  }

  /** Subscribes (and waits until NATS has the subscriptions), then starts heartbeats and the idle sweep. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error('MediaWorker.start() was already called');
    this.state = 'running';
    // Default concurrency 1: frames of a stream reach its encoder in arrival order.
    this.subscriptions.push(
      this.bus.subscribe(Subjects.mediaInput, { replicaId: this.replicaId }, (input) => this.onInput(input)),
      this.bus.subscribe(Subjects.mediaCallEnded, {}, (ended) => this.onCallEnded(ended)),
      this.bus.subscribe(Subjects.mediaKeyframeRequest, {}, (request) => this.requestKeyframe(request.callId)),
    );
    await this.bus.ready();
    this.heartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatIntervalMs);
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, this.idleTimeoutMs / 4)));
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  /** Raw frames lost so far to back-pressure or failed encoder processes. */
  get droppedFrames(): number {
    let dropped = this.droppedByClosedStreams;
    for (const stream of this.streams.values()) dropped += stream.droppedFrames;
    return dropped;
  }

  /** Live ffmpeg pids of one call's streams, or of all streams. */
  ffmpegPids(callId?: string): number[] {
    const pids: number[] = [];
    for (const stream of this.streams.values()) if (callId === undefined || stream.key.callId === callId) pids.push(...stream.pids);
    return pids;
  }

  /** The call's video encoders start over with a keyframe (a participant joined and has no picture yet). */
  requestKeyframe(callId: string): void {
    for (const stream of this.streams.values()) if (stream.key.callId === callId) stream.requestKeyframe();
  }

  /** Closes every encoder of a call; resolves once their ffmpeg processes have exited. */
  async endCall(callId: string): Promise<void> {
    this.endedCalls.set(callId, performance.now());
    const closes: Promise<void>[] = [];
    for (const [key, stream] of this.streams) if (stream.key.callId === callId) closes.push(this.closeStream(key, stream, 'call ended'));
    await Promise.all(closes);
  }

  /**
   * Stops taking frames and heartbeating, closes every encoder and waits for every ffmpeg to exit
   * (packets of frames already inside ffmpeg are still published). Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    await Promise.all(this.subscriptions.splice(0).map((subscription) => subscription.drain().catch(() => undefined)));
    for (const [key, stream] of this.streams) void this.closeStream(key, stream, 'shutdown');
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  private onInput(input: MediaInput): void {
    if (this.state !== 'running') return;
    const routing: FrameRouting = { channelId: input.channelId, recipientDeviceIds: input.recipientDeviceIds, receivedAtUs: input.receivedAtUs };
    const kind = input.kind;
    if (!isMediaKind(kind)) {
      this.refuse(input, new MediaError('bad_envelope', `media kind ${JSON.stringify(kind)} is neither audio nor video`), true);
      return;
    }
    if (this.endedCalls.has(input.callId)) {
      this.metrics?.dropped.inc({ kind, reason: 'closed' });
      return;
    }
    let transcode: TranscodeRequest | undefined;
    if (input.sourceCodec !== '') {
      if (!isSourceVideoCodec(input.sourceCodec)) {
        this.refuse(input, new MediaError('unsupported_codec', `source codec ${JSON.stringify(input.sourceCodec)} cannot be transcoded (vp8 or vp9)`), true);
        return;
      }
      transcode = { sourceCodec: input.sourceCodec, width: input.targetWidth, height: input.targetHeight };
    }
    const key = streamKeyOf(input.callId, input.senderDeviceId, kind, input.streamTag);
    let stream = this.streams.get(key);
    // A new profile (an accepting answer replaced the offer's), source codec or size, or a dead encoder: start over.
    if (stream !== undefined && (stream.setup !== streamSetupOf(input.profileJson, transcode) || stream.broken)) {
      void this.closeStream(key, stream, stream.broken ? 'encoder gave up' : 'setup changed');
      stream = undefined;
    }
    if (stream === undefined) {
      try {
        stream = this.openStream(input, kind, transcode);
      } catch (err) {
        this.refuse(input, err, true);
        return;
      }
      this.streams.set(key, stream);
    }
    try {
      stream.encode(input.body, routing);
    } catch (err) {
      this.refuse(input, err, false);
      if (stream.broken) void this.closeStream(key, stream, 'encoder gave up');
    }
  }

  private openStream(input: MediaInput, kind: 'audio' | 'video', transcode: TranscodeRequest | undefined): MediaStream {
    const key = { callId: input.callId, senderDeviceId: input.senderDeviceId, track: kind };
    const stream = openMediaStream(key, input.profileJson, {
      ...(this.metrics ? { metrics: this.metrics } : {}),
      ...(this.tuning ? { tuning: this.tuning } : {}),
      ...(transcode ? { transcode } : {}),
      ...(this.transcodeStallTimeoutMs !== undefined ? { transcodeStallTimeoutMs: this.transcodeStallTimeoutMs } : {}),
      handlers: {
        onPacket: (packet) => this.publishPacket(input, kind, packet),
        onError: (error, routing) => {
          this.logger.warn({ call_id: input.callId, sender_device_id: input.senderDeviceId, kind, stream_tag: input.streamTag, err: error.message }, 'media encoder failed');
          this.publishRefused({ ...input, channelId: routing.channelId }, kind, error);
        },
      },
    });
    this.logger.debug({ call_id: input.callId, sender_device_id: input.senderDeviceId, kind, stream_tag: input.streamTag, source_codec: input.sourceCodec }, 'media stream opened');
    return stream;
  }

  private onCallEnded(ended: MediaCallEnded): void {
    if (this.state !== 'running') return;
    void this.endCall(ended.callId);
  }

  private closeStream(key: string, stream: MediaStream, why: string): Promise<void> {
    if (this.streams.get(key) === stream) this.streams.delete(key);
    const closed = stream.close()
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message, call_id: stream.key.callId }, 'media encoder close failed'))
      .finally(() => {
        this.droppedByClosedStreams += stream.droppedFrames;
        this.closing.delete(closed);
      });
    this.closing.add(closed);
    this.logger.debug({ call_id: stream.key.callId, sender_device_id: stream.key.senderDeviceId, kind: stream.key.track, why }, 'media stream closed');
    return closed;
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, stream] of this.streams) {
      if (now - stream.lastFrameAt >= this.idleTimeoutMs) void this.closeStream(key, stream, 'idle');
    }
    for (const [callId, endedAt] of this.endedCalls) {
      if (now - endedAt >= this.endedCallGraceMs) this.endedCalls.delete(callId);
    }
  }

  private heartbeat(): void {
    const cpu = process.cpuUsage();
    this.publish(() => this.bus.publish(Subjects.mediaHeartbeat, {}, {
      replicaId: this.replicaId,
      at: Date.now(),
      activeStreams: this.streams.size,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      droppedFrames: this.droppedFrames,
    }));
  }

  private publishPacket(input: MediaInput, kind: string, packet: EncodedPacket): void {
    this.publish(() => this.bus.publish(Subjects.mediaOutput, {}, {
      callId: input.callId,
      channelId: packet.routing.channelId,
      senderDeviceId: input.senderDeviceId,
      kind,
      codec: packet.codec,
      packet: packet.packet,
      keyframe: packet.keyframe,
      recipientDeviceIds: [...packet.routing.recipientDeviceIds],
      receivedAtUs: packet.routing.receivedAtUs,
      encodedAtUs: nowUs(),
      streamTag: input.streamTag,
    }));
  }

  /** `countDrop`: the frame never reached an encoder, which would otherwise have counted it. */
  private refuse(input: MediaInput, err: unknown, countDrop: boolean): void {
    const error = err instanceof MediaError ? err : new MediaError('encoder_failed', `unexpected failure: ${(err as Error)?.message ?? String(err)}`);
    if (!(err instanceof MediaError)) this.logger.error({ err, call_id: input.callId }, 'media frame failed unexpectedly');
    const reason = REFUSAL_REASON[error.code];
    if (countDrop && reason !== undefined) this.metrics?.dropped.inc({ kind: isMediaKind(input.kind) ? input.kind : 'unknown', reason });
    this.publishRefused(input, input.kind, error);
  }

  private publishRefused(input: Pick<MediaInput, 'callId' | 'channelId' | 'senderDeviceId'>, kind: string, error: MediaError): void {
    this.publish(() => this.bus.publish(Subjects.mediaRefused, {}, {
      callId: input.callId, channelId: input.channelId, senderDeviceId: input.senderDeviceId, kind, code: error.code, detail: error.message,
    }));
  }

  /** Publishing is at most once: a closed bus during shutdown loses the message, never the worker. */
  private publish(send: () => void): void {
    try {
      // Encoded packets, refusals and heartbeats are media-rate traffic: never traced (the
      // unsampled context says so to the router and the gateways too).
      context.with(unsampledContext(), send);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'media publish failed');
    }
  }
}
