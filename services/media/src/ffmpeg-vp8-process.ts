/**
 * One ffmpeg child that turns video frames on stdin into VP8 in IVF on stdout (spec calls-media
 * §9.3), built with fluent-ffmpeg. By default the input is raw I420; ffmpeg-transcode-process.ts
 * feeds it encoded VP8/VP9 in IVF instead. It is persistent — spawning costs ~100 ms, far too
 * much per frame — and knows nothing about queues or keyframe policy (vp8-encoder.ts and
 * transcode-stream.ts do that).
 *
 * Each written frame gets the next pts (0, 1, 2 …); `-fps_mode passthrough` keeps ffmpeg from
 * duplicating or dropping frames, so the IVF pts of a packet names the input frame it encodes
 * (ffmpeg starts its output at 0, which is also the first pts written).
 *
 * The binary is found the fluent-ffmpeg way: $FFMPEG_PATH, else `ffmpeg` on PATH (its
 * setFfmpegPath() is process-global, so it is not offered per stream).
 */
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { IvfReader, type IvfFrame } from './ivf-reader.js';
import { MediaError } from '@commucat/media-format';

export interface Vp8EncodeSettings {
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  /** Target bits per second (the call profile's unit). */
  readonly bitrate: number;
  /** libvpx speed for VP8, 0…16; higher is faster. */
  readonly cpuUsed: number;
  /** Longest distance between keyframes, in frames (keyframes for late joiners). */
  readonly keyframeIntervalFrames: number;
}

/**
 * libvpx settings. ffmpeg's `-b:v` is in bit/s and ffmpeg itself divides by 1000 for libvpx's
 * kbit/s `rc_target_bitrate` — so the profile's bit/s go in unchanged. (The reference wrote bit/s
 * straight into the kbit/s field: a 1000× too high target, spec §4.5.2.)
 */
export function vp8OutputOptions(settings: Vp8EncodeSettings): string[] {
  const bitrate = String(Math.round(settings.bitrate));
  return [
    '-deadline', 'realtime',
    '-cpu-used', String(settings.cpuUsed),
    // minrate = maxrate = b selects CBR in ffmpeg's libvpx wrapper; a 1 s buffer keeps it live.
    '-b:v', bitrate, '-minrate', bitrate, '-maxrate', bitrate, '-bufsize', bitrate,
    '-lag-in-frames', '0', // no look-ahead: a frame leaves as soon as it is encoded
    '-error-resilient', '1',
    '-drop-threshold', '0', // never skip a frame: one packet per input frame
    '-g', String(settings.keyframeIntervalFrames),
    '-threads', '1',
    '-fps_mode', 'passthrough',
    '-flush_packets', '1',
  ];
}

/** What ffmpeg reads on stdin, and the bytes around each frame written there. */
export interface FfmpegVideoInput {
  /** ffmpeg's `-f` for stdin. */
  readonly format: string;
  readonly inputOptions: readonly string[];
  /** Extra output options before the VP8 ones (e.g. a `-vf` scale). */
  readonly outputOptions?: readonly string[];
  /** Written once, before the first frame (a container's file header). */
  readonly preamble?: Uint8Array;
  /** Written before each frame (a container's frame header), given the frame's pts. */
  readonly framePrefix?: (pts: number, frame: Uint8Array) => Uint8Array;
}

/** Tightly packed I420 frames of the encode size, one after the other. */
export function rawI420Input(settings: Vp8EncodeSettings): FfmpegVideoInput {
  return {
    format: 'rawvideo',
    inputOptions: ['-pix_fmt', 'yuv420p', '-s', `${settings.width}x${settings.height}`, '-r', String(settings.frameRate)],
  };
}

export interface FfmpegVp8Handlers {
  /** A packet; its pts is the pts write() returned for the input frame it encodes. */
  onPacket(frame: IvfFrame): void;
  /** The process ended; `error` is set unless end() asked for it. */
  onExit(error: MediaError | undefined): void;
}

const GRACEFUL_EXIT_MS = 2000;

export class FfmpegVp8Process {
  private readonly input = new PassThrough();
  private readonly output = new PassThrough();
  private readonly reader = new IvfReader();
  private child: ChildProcess | undefined;
  private nextPts = 0;
  private ending = false;
  /** Set when stdout stopped being valid IVF; reported instead of the kill it causes. */
  private streamError: MediaError | undefined;
  private exited_ = false;
  /** Resolves when the child has exited (or never started). */
  readonly exited: Promise<void>;

  constructor(
    settings: Vp8EncodeSettings,
    private readonly handlers: FfmpegVp8Handlers,
    private readonly source: FfmpegVideoInput = rawI420Input(settings),
  ) {
    let markExited!: () => void;
    this.exited = new Promise<void>((resolve) => { markExited = resolve; });
    const finish = (error: MediaError | undefined): void => {
      if (this.exited_) return;
      this.exited_ = true;
      markExited();
      this.handlers.onExit(this.ending ? undefined : this.streamError ?? error ?? new MediaError('encoder_failed', 'ffmpeg exited unexpectedly'));
    };

    const command = ffmpeg()
      .input(this.input)
      .inputFormat(source.format)
      .inputOptions([...source.inputOptions])
      .videoCodec('libvpx')
      .outputOptions(['-hide_banner', '-loglevel', 'error', ...(source.outputOptions ?? []), ...vp8OutputOptions(settings)])
      .format('ivf');
    // Done = the child has exited (Node has reaped it) AND every stdout byte has been parsed:
    // 'exit' alone can arrive before the last packets were read.
    let childStatus: { error: MediaError | undefined } | undefined;
    let outputEnded = false;
    const finishWhenDrained = (): void => {
      if (childStatus !== undefined && outputEnded) finish(childStatus.error);
    };
    this.output.once('end', () => { outputEnded = true; finishWhenDrained(); });
    command.on('start', () => {
      // fluent-ffmpeg keeps the child on the command only while it runs; keep our own handle.
      const child = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
      this.child = child;
      child?.once('close', (code, signal) => {
        childStatus = { error: code === 0 ? undefined : new MediaError('encoder_failed', `ffmpeg exited with ${signal ?? `code ${code}`}`) };
        finishWhenDrained();
      });
    });
    command.on('error', (err: Error) => {
      // Also raised after a kill; only a failure before the child started ends us here.
      if (this.child === undefined) finish(new MediaError('encoder_failed', `ffmpeg did not start: ${err.message}`));
    });
    this.output.on('data', (chunk: Buffer) => this.onStdout(chunk));
    command.pipe(this.output, { end: true });
    if (source.preamble !== undefined) this.input.write(source.preamble);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Frames written so far (the pts the next frame will get). */
  get written(): number {
    return this.nextPts;
  }

  get hasExited(): boolean {
    return this.exited_;
  }

  /** Writes one frame (for the default input, tightly packed I420); returns its pts. */
  write(frame: Uint8Array): number {
    if (this.ending || this.exited_) throw new MediaError('encoder_closed', 'the ffmpeg process is closing');
    const pts = this.nextPts++;
    if (this.source.framePrefix !== undefined) this.input.write(this.source.framePrefix(pts, frame));
    this.input.write(frame);
    return pts;
  }

  /**
   * Closes stdin so ffmpeg encodes what it holds, writes it out and exits; kills it if that takes
   * longer than GRACEFUL_EXIT_MS. Resolves once the child is gone.
   */
  async end(): Promise<void> {
    if (!this.ending) {
      this.ending = true;
      this.input.end();
      const timer = setTimeout(() => this.kill(), GRACEFUL_EXIT_MS);
      void this.exited.then(() => clearTimeout(timer));
    }
    await this.exited;
  }

  kill(): void {
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onStdout(chunk: Buffer): void {
    let frames: IvfFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      // Out of sync with ffmpeg's output: nothing after this can be trusted.
      this.streamError = err as MediaError;
      this.kill();
      return;
    }
    for (const frame of frames) this.handlers.onPacket(frame);
  }
}
