/**
 * One per-subscriber transcoded stream (spec calls-media §4.2): the encoded VP8/VP9 frames of one
 * (call, sender, video, stream tag) go through one persistent ffmpeg that decodes, scales to the
 * receivers' size and encodes VP8 (ffmpeg-transcode-process.ts); packets come back in order with
 * the routing of the frame they encode.
 *
 * - Key frame gate: a decoder cannot start mid-GOP, so each process is fed nothing until a source
 *   key frame; the frames before it are dropped and counted.
 * - Back-pressure: a bounded queue in front of a small in-flight window, dropping the oldest, like
 *   the raw encoder.
 * - Garbage: structurally impossible frames are refused (source-frame.ts). A frame that still fails
 *   to decode yields no packet and leaves the window when a later packet comes out; if nothing
 *   comes out for `stallTimeoutMs` while the window is full the decoder is stuck on bad state,
 *   so the process is replaced and the stream starts again at the next key frame. A process that
 *   dies is replaced the same way; after MAX_CONSECUTIVE_FAILURES deaths without a packet the
 *   stream gives up (`broken`) and the worker builds a new one on the next frame.
 */
import { MediaError, streamKeyLabel, type MediaStreamKey } from '@commucat/media-format';
import { DropOldestQueue } from './drop-oldest-queue.js';
import type { FfmpegVp8Process, Vp8EncodeSettings } from './ffmpeg-vp8-process.js';
import { startTranscodeProcess, type TranscodeSource } from './ffmpeg-transcode-process.js';
import type { IvfFrame } from './ivf-reader.js';
import type { MediaDropReason, MediaMetrics } from './media-metrics.js';
import type { FrameRouting, MediaStream, MediaStreamHandlers } from './media-stream.js';
import { checkSourceFrame, isSourceKeyframe } from './source-frame.js';

export interface TranscodeStreamOptions {
  readonly key: MediaStreamKey;
  readonly profileJson: string;
  readonly setup: string;
  readonly source: TranscodeSource;
  /** The output: VP8 at the receivers' size (vp8EncodeSettings). */
  readonly settings: Vp8EncodeSettings;
  readonly handlers: MediaStreamHandlers;
  readonly metrics?: MediaMetrics;
  /** Source frames waiting for ffmpeg before the oldest is dropped; default 2. */
  readonly queueCapacity?: number;
  /** Frames handed to ffmpeg without a packet back yet; default 2. */
  readonly maxInFlight?: number;
  /** A full window without any packet for this long means the decoder is stuck; default 1000 ms. */
  readonly stallTimeoutMs?: number;
}

interface QueuedFrame {
  readonly data: Uint8Array;
  readonly keyframe: boolean;
  readonly routing: FrameRouting;
  readonly pushedAt: number;
}

interface InFlightFrame extends QueuedFrame {
  readonly pts: number;
  readonly writtenAt: number;
}

interface TranscoderSlot {
  readonly process: FfmpegVp8Process;
  readonly inFlight: InFlightFrame[];
}

/** Consecutive process deaths without a single packet before the stream gives up. */
const MAX_CONSECUTIVE_FAILURES = 3;

export class TranscodeStream implements MediaStream {
  readonly key: MediaStreamKey;
  readonly profileJson: string;
  readonly setup: string;
  lastFrameAt = performance.now();
  private readonly queue: DropOldestQueue<QueuedFrame>;
  private readonly maxInFlight: number;
  private readonly stallTimeoutMs: number;
  private readonly label: string;
  private active: TranscoderSlot;
  /** Replaced processes still exiting (their output is ignored). */
  private readonly retiring = new Set<TranscoderSlot>();
  private closed = false;
  private failed: MediaError | undefined;
  private consecutiveFailures = 0;
  private dropped = 0;
  private lastRouting: FrameRouting | undefined;

  constructor(private readonly options: TranscodeStreamOptions) {
    this.key = options.key;
    this.profileJson = options.profileJson;
    this.setup = options.setup;
    this.queue = new DropOldestQueue(options.queueCapacity ?? 2);
    this.maxInFlight = options.maxInFlight ?? 2;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 1000;
    this.label = `${streamKeyLabel(options.key)} ${options.source.codec}→vp8 ${options.settings.width}x${options.settings.height}`;
    this.active = this.startProcess();
    options.metrics?.activeEncoders.inc({ kind: 'video' });
  }

  get broken(): boolean {
    return this.failed !== undefined;
  }

  /** Frames lost to the key frame gate, back-pressure, the decoder or a failed process. */
  get droppedFrames(): number {
    return this.dropped + this.queue.dropped;
  }

  get pids(): readonly number[] {
    return [this.active, ...this.retiring]
      .filter((slot) => !slot.process.hasExited)
      .map((slot) => slot.process.pid)
      .filter((pid): pid is number => pid !== undefined);
  }

  /**
   * Queues one encoded source frame. Throws `bad_envelope` for bytes that cannot be a frame of
   * the source codec; drops (and counts) frames before the first key frame.
   */
  encode(body: Buffer, routing: FrameRouting): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.closed) throw new MediaError('encoder_closed', `transcoder ${this.label} is closed`);
    this.lastFrameAt = performance.now();
    this.lastRouting = routing;
    try {
      checkSourceFrame(this.options.source.codec, body);
    } catch (err) {
      this.options.metrics?.dropped.inc({ kind: 'video', reason: 'bad_frame' });
      throw err;
    }
    const keyframe = isSourceKeyframe(this.options.source.codec, body);
    if (!keyframe && this.waitingForKeyframe()) {
      this.countDrop('no_keyframe');
      return;
    }
    this.options.metrics?.framesIn.inc({ kind: 'video', codec: 'vp8' });
    const evicted = this.queue.push({ data: body, keyframe, routing, pushedAt: performance.now() });
    if (evicted !== undefined) this.options.metrics?.dropped.inc({ kind: 'video', reason: 'queue_full' });
    if (this.stalled()) this.replaceProcess('stall');
    this.pump();
  }

  /**
   * A re-encoded stream cannot start over on its own: the decoder needs the sender's next keyframe,
   * and `-force_key_frames source` makes that one a keyframe of the output too.
   */
  requestKeyframe(): void {}

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (let i = this.queue.drain().length; i > 0; i--) this.countDrop('closed');
      this.options.metrics?.activeEncoders.dec({ kind: 'video' });
    }
    await Promise.all([this.active, ...this.retiring].map((slot) => slot.process.end()));
  }

  /** True while the current process has not been given a key frame and none is queued for it. */
  private waitingForKeyframe(): boolean {
    return this.active.process.written === 0 && !this.queue.some((frame) => frame.keyframe);
  }

  private stalled(): boolean {
    const oldest = this.active.inFlight[0];
    return this.active.inFlight.length >= this.maxInFlight && oldest !== undefined && performance.now() - oldest.writtenAt >= this.stallTimeoutMs;
  }

  private startProcess(): TranscoderSlot {
    const inFlight: InFlightFrame[] = [];
    const slot: TranscoderSlot = {
      inFlight,
      process: startTranscodeProcess(this.options.source, this.options.settings, {
        onPacket: (packet) => this.onPacket(slot, packet),
        onExit: (error) => this.onExit(slot, error),
      }),
    };
    return slot;
  }

  /** Moves queued frames into ffmpeg while the window allows; a fresh process starts at a key frame. */
  private pump(): void {
    while (!this.closed && this.failed === undefined && this.queue.length > 0) {
      if (this.active.inFlight.length >= this.maxInFlight) return;
      const frame = this.queue.shift()!;
      if (this.active.process.written === 0 && !frame.keyframe) {
        this.countDrop('no_keyframe');
        continue;
      }
      const pts = this.active.process.write(frame.data);
      this.active.inFlight.push({ ...frame, pts, writtenAt: performance.now() });
    }
  }

  /** Retires the active process (its frames are lost) and starts a new one, fed from the next key frame. */
  private replaceProcess(reason: 'stall' | 'failure'): void {
    const old = this.active;
    for (let i = old.inFlight.splice(0).length; i > 0; i--) this.countDrop(reason === 'stall' ? 'undecodable' : 'encoder_failed');
    this.active = this.startProcess();
    this.options.metrics?.encoderRestarts.inc({ kind: 'video', reason });
    if (!old.process.hasExited) {
      this.retiring.add(old);
      // A stuck decoder has nothing worth flushing.
      old.process.kill();
      void old.process.exited.then(() => this.retiring.delete(old));
    }
  }

  private onPacket(slot: TranscoderSlot, packet: IvfFrame): void {
    if (slot !== this.active) return;
    // Frames before this pts produced no packet: the decoder could not use them.
    while (slot.inFlight.length > 0 && slot.inFlight[0]!.pts < packet.pts) {
      slot.inFlight.shift();
      this.countDrop('undecodable');
    }
    const frame = slot.inFlight[0]?.pts === packet.pts ? slot.inFlight.shift() : undefined;
    if (frame === undefined) return; // a packet for nothing we sent: ignore rather than misattribute
    this.consecutiveFailures = 0;
    const metrics = this.options.metrics;
    if (metrics !== undefined) {
      metrics.framesOut.inc({ kind: 'video', codec: 'vp8' });
      metrics.encodeLatency.observe({ kind: 'video' }, (performance.now() - frame.pushedAt) / 1000);
    }
    this.options.handlers.onPacket({ codec: 'vp8', packet: packet.data, keyframe: packet.keyframe, routing: frame.routing });
    this.pump();
  }

  private onExit(slot: TranscoderSlot, error: MediaError | undefined): void {
    if (this.retiring.delete(slot) || slot !== this.active) return;
    for (let i = slot.inFlight.splice(0).length; i > 0; i--) this.countDrop('encoder_failed');
    if (error === undefined || this.closed) return;
    this.consecutiveFailures++;
    const failure = new MediaError('encoder_failed', `transcoder ${this.label}: ${error.message}`);
    if (this.lastRouting !== undefined) this.options.handlers.onError(failure, this.lastRouting);
    if (this.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
      this.failed = new MediaError('encoder_failed', `transcoder ${this.label} failed ${this.consecutiveFailures} times in a row; giving up`);
      for (let i = this.queue.drain().length; i > 0; i--) this.countDrop('encoder_failed');
      void this.close();
      return;
    }
    this.replaceProcess('failure');
    this.pump();
  }

  private countDrop(reason: MediaDropReason): void {
    this.dropped++;
    this.options.metrics?.dropped.inc({ kind: 'video', reason });
  }
}
