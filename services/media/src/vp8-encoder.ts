/**
 * Raw I420 → VP8 for one (call, sender, video track): a bounded drop-oldest input queue in front
 * of one persistent ffmpeg process (ffmpeg-vp8-process.ts), frames out in input order with their
 * added latency.
 *
 * Keyframe on request: ffmpeg cannot be told to force a keyframe at run time (`-force_key_frames`
 * is fixed when the process starts, and libvpx's per-frame FORCE_KF flag is only reachable
 * through it). A fresh libvpx encoder always starts with a keyframe, so requestKeyframe() switches
 * the stream to a new ffmpeg process. To make that switch cost one frame instead of a ~100 ms
 * spawn, a warm standby process is kept started and idle (blocked on stdin, no CPU); it takes over
 * at the next frame once the current process has returned every frame it was given (so output
 * order is kept), and a new standby is started behind it. Periodic keyframes (`-g`) still serve
 * late joiners without a request.
 */
import { DropOldestQueue } from './drop-oldest-queue.js';
import { FfmpegVp8Process, type Vp8EncodeSettings } from './ffmpeg-vp8-process.js';
import type { IvfFrame } from './ivf-reader.js';
import { MediaError, streamKeyLabel, type MediaStreamKey, type VideoParameters } from '@commucat/media-format';
import type { MediaDropReason, MediaMetrics } from './media-metrics.js';

export interface EncodedVideoFrame {
  /** Index of the raw frame (0, 1, 2 … per stream, counting dropped ones) this packet encodes. */
  readonly sequence: number;
  /** The bare VP8 frame. */
  readonly data: Buffer;
  readonly keyframe: boolean;
  /** push() → packet parsed, queue wait included. */
  readonly latencyMs: number;
  /** Written to ffmpeg → packet parsed. */
  readonly encodeMs: number;
}

export interface Vp8StreamOptions {
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  /** Target bits per second, the call profile's unit. */
  readonly bitrate: number;
  /** libvpx VP8 speed (0…16); default 8, the realtime sweet spot. */
  readonly cpuUsed?: number;
  /** Default: 2 s of frames. */
  readonly keyframeIntervalFrames?: number;
  /** Raw frames waiting for the encoder before the oldest is dropped; default 2. */
  readonly queueCapacity?: number;
  /** Frames handed to ffmpeg but not yet returned; default 2 (one encoding, one in the pipe). */
  readonly maxInFlight?: number;
  /** Keep an idle second process for fast keyframe requests; default true. */
  readonly warmStandby?: boolean;
  readonly key?: MediaStreamKey;
  readonly metrics?: MediaMetrics;
  readonly onFrame: (frame: EncodedVideoFrame) => void;
  /** Encoder failures and dropped in-flight frames; the stream keeps going on a new process. */
  readonly onError?: (error: MediaError) => void;
}

export type Vp8StreamHandlers = Pick<Vp8StreamOptions, 'onFrame' | 'onError' | 'metrics' | 'key'>;

/** Encoder options from a call profile's `video` object (max_resolution, frame_rate, max_bitrate in bit/s). */
export function vp8OptionsFromProfile(video: VideoParameters, handlers: Vp8StreamHandlers): Vp8StreamOptions {
  return {
    width: video.max_resolution.width,
    height: video.max_resolution.height,
    frameRate: video.frame_rate,
    bitrate: video.max_bitrate,
    ...handlers,
  };
}

/** Bytes of one tightly packed I420 frame: Y, then U and V at half resolution (rounded up). */
export function i420FrameBytes(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * Checks the encode parameters (MediaError `bad_profile` for unusable ones) and fills in the
 * defaults: cpu-used 8, a keyframe every 2 s.
 */
export function vp8EncodeSettings(
  options: Pick<Vp8StreamOptions, 'width' | 'height' | 'frameRate' | 'bitrate' | 'cpuUsed' | 'keyframeIntervalFrames'>,
): Vp8EncodeSettings {
  const { width, height, frameRate, bitrate } = options;
  const positiveInt = (n: number): boolean => Number.isInteger(n) && n > 0;
  if (!positiveInt(width) || !positiveInt(height) || width > 16384 || height > 16384) {
    throw new MediaError('bad_profile', `video size ${width}×${height} is not usable`);
  }
  if (!positiveInt(frameRate) || frameRate > 120) throw new MediaError('bad_profile', `frame rate ${frameRate} is outside 1…120`);
  // Below ~10 kbit/s libvpx cannot hold a picture; above 100 Mbit/s is a unit mistake.
  if (!Number.isFinite(bitrate) || bitrate < 10_000 || bitrate > 100_000_000) {
    throw new MediaError('bad_profile', `video bitrate ${bitrate} bit/s is outside 10 kbit/s…100 Mbit/s`);
  }
  const cpuUsed = options.cpuUsed ?? 8;
  if (!Number.isInteger(cpuUsed) || cpuUsed < 0 || cpuUsed > 16) throw new MediaError('bad_profile', `cpu-used ${cpuUsed} is outside 0…16`);
  const keyframeIntervalFrames = options.keyframeIntervalFrames ?? frameRate * 2;
  if (!positiveInt(keyframeIntervalFrames)) throw new MediaError('bad_profile', `keyframe interval ${keyframeIntervalFrames} is not a positive frame count`);
  return { width, height, frameRate, bitrate, cpuUsed, keyframeIntervalFrames };
}

export interface Vp8StreamStats {
  readonly framesIn: number;
  readonly framesOut: number;
  /** Evicted from the input queue by newer frames. */
  readonly droppedQueueFull: number;
  /** Lost inside a failed ffmpeg process or still queued at close(). */
  readonly droppedOther: number;
  readonly keyframeSwitches: number;
  readonly failures: number;
  readonly queued: number;
  readonly inFlight: number;
}

interface QueuedFrame {
  readonly sequence: number;
  readonly data: Uint8Array;
  readonly pushedAt: number;
}

interface InFlightFrame extends QueuedFrame {
  readonly pts: number;
  readonly writtenAt: number;
}

/** One ffmpeg process and the frames it has been given but not yet returned. */
interface EncoderSlot {
  readonly process: FfmpegVp8Process;
  readonly inFlight: InFlightFrame[];
}

/** Consecutive process failures without a single packet before the stream gives up. */
const MAX_CONSECUTIVE_FAILURES = 3;

export class Vp8StreamEncoder {
  readonly frameBytes: number;
  private readonly settings: Vp8EncodeSettings;
  private readonly queue: DropOldestQueue<QueuedFrame>;
  private readonly maxInFlight: number;
  private readonly warmStandby: boolean;
  private readonly label: string;
  private active: EncoderSlot;
  private standby: EncoderSlot | undefined;
  private readonly retiring = new Set<EncoderSlot>();
  private keyframeRequested = false;
  private closed = false;
  private failed: MediaError | undefined;
  private consecutiveFailures = 0;
  private nextSequence = 0;
  private framesOut = 0;
  private droppedOther = 0;
  private keyframeSwitches = 0;
  private failures = 0;

  constructor(private readonly options: Vp8StreamOptions) {
    const { width, height, frameRate } = options;
    this.settings = vp8EncodeSettings(options);
    this.frameBytes = i420FrameBytes(width, height);
    this.queue = new DropOldestQueue(options.queueCapacity ?? 2);
    this.maxInFlight = options.maxInFlight ?? 2;
    this.warmStandby = options.warmStandby ?? true;
    this.label = options.key !== undefined ? streamKeyLabel(options.key) : `${width}x${height}@${frameRate}`;
    // Started now so ffmpeg's start-up overlaps the wait for the first frame.
    this.active = this.startProcess();
    this.standby = this.warmStandby ? this.startProcess() : undefined;
    options.metrics?.activeEncoders.inc({ kind: 'video' });
  }

  /**
   * Queues one raw I420 frame. Never blocks: when the queue is full the oldest queued frame is
   * dropped (and counted). Throws `wrong_frame_size` for a frame of the wrong length. The encoder
   * keeps a reference to `frame` until ffmpeg has read it, so the caller must not reuse the buffer.
   */
  push(frame: Uint8Array): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.closed) throw new MediaError('encoder_closed', `video encoder ${this.label} is closed`);
    if (frame.byteLength !== this.frameBytes) {
      this.countDrop('bad_frame');
      throw new MediaError('wrong_frame_size', `I420 frame of ${frame.byteLength} bytes; ${this.settings.width}×${this.settings.height} is ${this.frameBytes}`);
    }
    this.options.metrics?.framesIn.inc({ kind: 'video', codec: 'vp8' });
    const evicted = this.queue.push({ sequence: this.nextSequence++, data: frame, pushedAt: performance.now() });
    if (evicted !== undefined) this.options.metrics?.dropped.inc({ kind: 'video', reason: 'queue_full' });
    this.pump();
  }

  /** Makes the next encoded frame a keyframe (e.g. a receiver lost the picture or just joined). */
  requestKeyframe(): void {
    if (this.closed || this.failed !== undefined) return;
    // A process that has not been given a frame yet will start with a keyframe anyway.
    if (this.active.process.written === 0) return;
    this.keyframeRequested = true;
    this.pump();
  }

  get stats(): Vp8StreamStats {
    return {
      framesIn: this.nextSequence,
      framesOut: this.framesOut,
      droppedQueueFull: this.queue.dropped,
      droppedOther: this.droppedOther,
      keyframeSwitches: this.keyframeSwitches,
      failures: this.failures,
      queued: this.queue.length,
      inFlight: this.active.inFlight.length,
    };
  }

  /** Pids of this stream's live ffmpeg processes (active, standby, retiring). */
  get pids(): number[] {
    const slots = [this.active, ...(this.standby ? [this.standby] : []), ...this.retiring];
    return slots.filter((slot) => !slot.process.hasExited).map((slot) => slot.process.pid).filter((pid): pid is number => pid !== undefined);
  }

  /**
   * Stops the stream: frames still queued are dropped, frames already inside ffmpeg are encoded
   * and delivered, then every process has exited when the promise resolves. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (let i = this.queue.drain().length; i > 0; i--) this.countDrop('closed');
      this.options.metrics?.activeEncoders.dec({ kind: 'video' });
    }
    const slots = [this.active, ...(this.standby ? [this.standby] : []), ...this.retiring];
    await Promise.all(slots.map((slot) => slot.process.end()));
  }

  private startProcess(): EncoderSlot {
    const inFlight: InFlightFrame[] = [];
    const slot: EncoderSlot = {
      inFlight,
      process: new FfmpegVp8Process(this.settings, {
        onPacket: (packet) => this.onPacket(slot, packet),
        onExit: (error) => this.onExit(slot, error),
      }),
    };
    return slot;
  }

  /** Moves queued frames into ffmpeg while the in-flight window allows, switching processes on a keyframe request. */
  private pump(): void {
    while (!this.closed && this.failed === undefined && this.queue.length > 0) {
      if (this.keyframeRequested) {
        // Switch only once the old process has returned everything, so output order is kept.
        if (this.active.inFlight.length > 0) return;
        this.switchProcess('keyframe');
      }
      if (this.active.inFlight.length >= this.maxInFlight) return;
      const frame = this.queue.shift()!;
      const pts = this.active.process.write(frame.data);
      this.active.inFlight.push({ ...frame, pts, writtenAt: performance.now() });
    }
  }

  private switchProcess(reason: 'keyframe' | 'failure'): void {
    const old = this.active;
    const standby = this.standby !== undefined && !this.standby.process.hasExited ? this.standby : undefined;
    this.active = standby ?? this.startProcess();
    this.standby = this.warmStandby ? this.startProcess() : undefined;
    this.keyframeRequested = false;
    if (reason === 'keyframe') this.keyframeSwitches++;
    this.options.metrics?.encoderRestarts.inc({ kind: 'video', reason });
    if (!old.process.hasExited) {
      this.retiring.add(old);
      void old.process.end().then(() => this.retiring.delete(old));
    }
  }

  private onPacket(slot: EncoderSlot, packet: IvfFrame): void {
    // Frames before this pts produced no packet (not expected with -drop-threshold 0).
    while (slot.inFlight.length > 0 && slot.inFlight[0]!.pts < packet.pts) {
      slot.inFlight.shift();
      this.countDrop('encoder_failed');
    }
    const frame = slot.inFlight[0]?.pts === packet.pts ? slot.inFlight.shift() : undefined;
    if (frame === undefined) return; // a packet for nothing we sent: ignore rather than misattribute
    this.consecutiveFailures = 0;
    this.framesOut++;
    const now = performance.now();
    const latencyMs = now - frame.pushedAt;
    const metrics = this.options.metrics;
    if (metrics !== undefined) {
      metrics.framesOut.inc({ kind: 'video', codec: 'vp8' });
      metrics.encodeLatency.observe({ kind: 'video' }, latencyMs / 1000);
    }
    this.options.onFrame({ sequence: frame.sequence, data: packet.data, keyframe: packet.keyframe, latencyMs, encodeMs: now - frame.writtenAt });
    this.pump();
  }

  private onExit(slot: EncoderSlot, error: MediaError | undefined): void {
    this.retiring.delete(slot);
    const lost = slot.inFlight.splice(0);
    for (let i = 0; i < lost.length; i++) this.countDrop('encoder_failed');
    if (error === undefined || this.closed) return;
    this.failures++;
    this.consecutiveFailures++;
    this.options.onError?.(new MediaError('encoder_failed', `video encoder ${this.label}: ${error.message}; ${lost.length} frame(s) lost`));
    if (this.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
      this.failed = new MediaError('encoder_failed', `video encoder ${this.label} failed ${this.consecutiveFailures} times in a row; giving up`);
      for (let i = this.queue.drain().length; i > 0; i--) this.countDrop('encoder_failed');
      void this.close();
      return;
    }
    if (slot === this.standby) {
      this.standby = this.startProcess();
    } else if (slot === this.active) {
      this.switchProcess('failure'); // the replacement starts with a keyframe
      this.pump();
    }
  }

  private countDrop(reason: MediaDropReason): void {
    if (reason !== 'bad_frame') this.droppedOther++;
    this.options.metrics?.dropped.inc({ kind: 'video', reason });
  }
}
