/**
 * One encoder stream of the media service: the raw frames of one (call, sender device, kind),
 * encoded to the codec the call's profile asks for (spec calls-media §4.5.1: never one encoder
 * per call). Audio encodes synchronously (libopus, one packet per frame); video goes through a
 * persistent ffmpeg and comes back later, so each raw frame's routing data (recipients, receive
 * time) is kept until its packet returns. Encoded VP8/VP9 input for receivers that cannot take
 * it as it is goes to a transcoder (transcode-stream.ts) instead.
 */
import {
  MediaError, parseCallMediaProfileJson, transcodeTargetFor, type CallMediaProfile, type MediaKind, type MediaStreamKey, type TranscodeTarget,
} from '@commucat/media-format';
import type { MediaMetrics } from './media-metrics.js';
import { OpusStreamEncoder, opusOptionsFromProfile } from './opus-encoder.js';
import type { SourceVideoCodec } from './source-frame.js';
import { TranscodeStream } from './transcode-stream.js';
import { Vp8StreamEncoder, vp8EncodeSettings, vp8OptionsFromProfile, type EncodedVideoFrame } from './vp8-encoder.js';

/** What travels with a raw frame to the packet encoded from it. */
export interface FrameRouting {
  readonly channelId: number;
  readonly recipientDeviceIds: readonly string[];
  readonly receivedAtUs: number;
}

export interface EncodedPacket {
  readonly codec: TranscodeTarget;
  readonly packet: Buffer;
  readonly keyframe: boolean;
  readonly routing: FrameRouting;
}

export interface MediaStreamHandlers {
  readonly onPacket: (packet: EncodedPacket) => void;
  /**
   * Failures found after encode() returned (the video encoder process died); `routing` is the
   * latest frame's, for the channel to report on.
   */
  readonly onError: (error: MediaError, routing: FrameRouting) => void;
}

export interface MediaStream {
  readonly key: MediaStreamKey;
  /** The profile the encoder was built from; a different one means the call was renegotiated. */
  readonly profileJson: string;
  /** The profile, source codec and output size it was built from (streamSetupOf): another one needs a new stream. */
  readonly setup: string;
  /** performance.now() of the last frame handed in (idle streams are closed). */
  readonly lastFrameAt: number;
  /** The encoder gave up for good: the next frame needs a new stream. */
  readonly broken: boolean;
  /** Frames lost to back-pressure or a failed encoder process. */
  readonly droppedFrames: number;
  /** Live ffmpeg processes (none for audio). */
  readonly pids: readonly number[];
  /** Encodes one frame; throws MediaError (e.g. wrong_frame_size) for a frame it refuses. */
  encode(body: Buffer, routing: FrameRouting): void;
  /** The next packet should be a keyframe (video from raw frames); a no-op where that cannot apply. */
  requestKeyframe(): void;
  /** Closes the encoder; resolves once its processes (if any) have exited. Idempotent. */
  close(): Promise<void>;
}

/** Speed/quality knobs of the encoders (config media.*): the defaults are tuned for capacity (README). */
export interface EncoderTuning {
  /** libopus complexity 0…10. */
  readonly opusComplexity?: number;
  /** libvpx cpu-used 0…16 (higher is faster). */
  readonly vp8CpuUsed?: number;
}

/** Encoded source frames to re-encode as VP8 of this size (0×0: the profile's max_resolution). */
export interface TranscodeRequest {
  readonly sourceCodec: SourceVideoCodec;
  readonly width: number;
  readonly height: number;
}

export interface OpenStreamOptions {
  readonly metrics?: MediaMetrics;
  readonly handlers: MediaStreamHandlers;
  readonly tuning?: EncoderTuning;
  /** Absent: the frames are raw (PCM / I420). */
  readonly transcode?: TranscodeRequest;
  /** How long a transcoder's decoder may hold a full window without output before its process is replaced. */
  readonly transcodeStallTimeoutMs?: number;
}

/** What a stream is built from; frames with another setup for the same key need a new stream. */
export function streamSetupOf(profileJson: string, transcode?: TranscodeRequest): string {
  return JSON.stringify([profileJson, transcode?.sourceCodec ?? '', transcode?.width ?? 0, transcode?.height ?? 0]);
}

/**
 * Builds the encoder of a stream from the call's profile JSON. Throws MediaError `bad_profile` /
 * `unknown_codec` (profile), `unsupported` (no target for this kind) or `bad_profile` from the
 * encoder's own limits (sample rate, size, bitrate …); for a transcode also `unsupported_codec`
 * (encoded audio) and `bad_envelope` (a target size with one side 0).
 */
export function openMediaStream(key: MediaStreamKey, profileJson: string, options: OpenStreamOptions): MediaStream {
  const profile = parseCallMediaProfileJson(profileJson);
  const setup = streamSetupOf(profileJson, options.transcode);
  if (options.transcode !== undefined) return openTranscodeStream(key, profileJson, setup, profile, options.transcode, options);
  const target = transcodeTargetFor(key.track, profile);
  if (target === 'opus') return new AudioStream(key, profileJson, setup, options, opusOptionsFromProfile(profile.audio));
  return new VideoStream(key, profileJson, setup, options, profile.video!);
}

function openTranscodeStream(
  key: MediaStreamKey, profileJson: string, setup: string, profile: CallMediaProfile, request: TranscodeRequest, options: OpenStreamOptions,
): MediaStream {
  if (key.track !== 'video') throw new MediaError('unsupported_codec', `${request.sourceCodec} is a video codec, the frame is ${key.track}`);
  const video = profile.video;
  if (video === undefined || video === null) throw new MediaError('unsupported', 'encoded video to transcode in a call without video');
  if ((request.width === 0) !== (request.height === 0)) throw new MediaError('bad_envelope', `target size ${request.width}×${request.height}: give both sides or neither`);
  const size = request.width === 0 ? video.max_resolution : request;
  const settings = vp8EncodeSettings({
    width: size.width, height: size.height, frameRate: video.frame_rate, bitrate: video.max_bitrate,
    ...(options.tuning?.vp8CpuUsed !== undefined ? { cpuUsed: options.tuning.vp8CpuUsed } : {}),
  });
  return new TranscodeStream({
    key, profileJson, setup, settings, handlers: options.handlers,
    source: { codec: request.sourceCodec, width: video.max_resolution.width, height: video.max_resolution.height },
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.transcodeStallTimeoutMs !== undefined ? { stallTimeoutMs: options.transcodeStallTimeoutMs } : {}),
  });
}

class AudioStream implements MediaStream {
  lastFrameAt = performance.now();
  readonly broken = false;
  readonly droppedFrames = 0;
  readonly pids: readonly number[] = [];
  private readonly encoder: OpusStreamEncoder;

  constructor(
    readonly key: MediaStreamKey,
    readonly profileJson: string,
    readonly setup: string,
    private readonly options: OpenStreamOptions,
    settings: ReturnType<typeof opusOptionsFromProfile>,
  ) {
    this.encoder = new OpusStreamEncoder({
      ...settings, key, ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.tuning?.opusComplexity !== undefined ? { complexity: options.tuning.opusComplexity } : {}),
    });
  }

  encode(body: Buffer, routing: FrameRouting): void {
    this.lastFrameAt = performance.now();
    const packet = this.encoder.encode(body);
    // Opus packets have no keyframes: every one decodes given the decoder's running state.
    this.options.handlers.onPacket({ codec: 'opus', packet, keyframe: false, routing });
  }

  /** Every Opus packet decodes given the decoder's state: nothing to do. */
  requestKeyframe(): void {}

  async close(): Promise<void> {
    this.encoder.close();
  }
}

class VideoStream implements MediaStream {
  lastFrameAt = performance.now();
  private readonly encoder: Vp8StreamEncoder;
  /** Routing of frames handed to the encoder, by the encoder's sequence number (ascending). */
  private readonly pending = new Map<number, FrameRouting>();
  private nextSequence = 0;
  private lastRouting: FrameRouting | undefined;
  private gaveUp = false;

  constructor(
    readonly key: MediaStreamKey,
    readonly profileJson: string,
    readonly setup: string,
    private readonly options: OpenStreamOptions,
    video: Parameters<typeof vp8OptionsFromProfile>[0],
  ) {
    this.encoder = new Vp8StreamEncoder({
      ...vp8OptionsFromProfile(video, {
        key,
        onFrame: (frame) => this.onFrame(frame),
        onError: (error) => {
          if (this.lastRouting !== undefined) this.options.handlers.onError(error, this.lastRouting);
        },
        ...(options.metrics ? { metrics: options.metrics } : {}),
      }),
      // Nothing asks this service for keyframes yet, so a standby ffmpeg would only double the processes.
      warmStandby: false,
      ...(options.tuning?.vp8CpuUsed !== undefined ? { cpuUsed: options.tuning.vp8CpuUsed } : {}),
    });
  }

  get broken(): boolean {
    return this.gaveUp;
  }

  get droppedFrames(): number {
    const stats = this.encoder.stats;
    return stats.droppedQueueFull + stats.droppedOther;
  }

  get pids(): readonly number[] {
    return this.encoder.pids;
  }

  encode(body: Buffer, routing: FrameRouting): void {
    this.lastFrameAt = performance.now();
    this.lastRouting = routing;
    try {
      this.encoder.push(body);
    } catch (err) {
      if (err instanceof MediaError && (err.code === 'encoder_failed' || err.code === 'encoder_closed')) this.gaveUp = true;
      throw err;
    }
    // push() numbers accepted frames 0, 1, 2 … and throws before numbering a refused one.
    this.pending.set(this.nextSequence++, routing);
  }

  requestKeyframe(): void {
    this.encoder.requestKeyframe();
  }

  async close(): Promise<void> {
    await this.encoder.close();
    this.pending.clear();
  }

  private onFrame(frame: EncodedVideoFrame): void {
    const routing = this.pending.get(frame.sequence);
    // Earlier frames without a packet were dropped (queue or failed process): forget them too.
    for (const sequence of this.pending.keys()) {
      if (sequence > frame.sequence) break;
      this.pending.delete(sequence);
    }
    if (routing === undefined) return;
    this.options.handlers.onPacket({ codec: 'vp8', packet: frame.data, keyframe: frame.keyframe, routing });
  }
}

/** A stable map key for a stream: streams with different tags are independent. */
export function streamKeyOf(callId: string, senderDeviceId: string, kind: MediaKind, streamTag = ''): string {
  return JSON.stringify([callId, senderDeviceId, kind, streamTag]);
}
