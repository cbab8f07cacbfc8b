/**
 * Raw PCM → Opus for one (call, sender, track), in-process with native libopus (@discordjs/opus).
 * One 20 ms frame in, one packet out, no buffering (spec calls-media §4.3, §9.2). The encoder is
 * called directly rather than through prism-media's Transform stream: a stream adds buffering and
 * an event-loop hop per frame for nothing when every input is already exactly one frame.
 */
import { OpusEncoder } from '@discordjs/opus';
import { MediaError, type AudioParameters, type MediaStreamKey } from '@commucat/media-format';
import type { MediaMetrics } from './media-metrics.js';

export const OPUS_FRAME_MS = 20;
export const OPUS_SAMPLE_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** libopus accepts 500 bit/s … 512 kbit/s. */
export const OPUS_MIN_BITRATE = 500;
export const OPUS_MAX_BITRATE = 512_000;

// libopus request numbers (opus_defines.h); @discordjs/opus exposes only the raw CTL call.
const OPUS_SET_APPLICATION = 4000;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_VBR = 4006;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
const OPUS_APPLICATION_VOIP = 2048;

export interface OpusStreamOptions {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** bits per second, as in the call profile — libopus takes the same unit, no conversion. */
  readonly bitrate: number;
  readonly fec?: boolean;
  readonly dtx?: boolean;
  /** 0–10; the reference used 9. */
  readonly complexity?: number;
  /**
   * Loss the encoder plans for. In-band FEC only adds redundancy when this is > 0, so it defaults
   * to 10 % when FEC is on (the reference left it at 0, making its FEC flag useless).
   */
  readonly expectedPacketLossPercent?: number;
  readonly key?: MediaStreamKey;
  readonly metrics?: MediaMetrics;
}

/** Encoder settings from a call profile's `audio` object. */
export function opusOptionsFromProfile(audio: AudioParameters): OpusStreamOptions {
  if (audio.channels !== 1 && audio.channels !== 2) {
    throw new MediaError('bad_profile', `Opus needs 1 or 2 channels, the profile says ${audio.channels}`);
  }
  return { sampleRate: audio.sample_rate, channels: audio.channels, bitrate: audio.bitrate, fec: audio.fec ?? false, dtx: audio.dtx ?? false };
}

/** Bytes of one 20 ms frame of interleaved s16le PCM. */
export function pcmFrameBytes(sampleRate: number, channels: number): number {
  return (sampleRate / 1000) * OPUS_FRAME_MS * channels * 2;
}

export class OpusStreamEncoder {
  readonly frameBytes: number;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  private encoder: OpusEncoder | undefined;
  private readonly metrics: MediaMetrics | undefined;

  constructor(options: OpusStreamOptions) {
    const { sampleRate, channels, bitrate } = options;
    if (!OPUS_SAMPLE_RATES.includes(sampleRate)) throw new MediaError('bad_profile', `Opus cannot encode at ${sampleRate} Hz`);
    if (channels !== 1 && channels !== 2) throw new MediaError('bad_profile', `Opus needs 1 or 2 channels, got ${channels}`);
    if (!Number.isInteger(bitrate) || bitrate < OPUS_MIN_BITRATE || bitrate > OPUS_MAX_BITRATE) {
      throw new MediaError('bad_profile', `Opus bitrate ${bitrate} bit/s is outside ${OPUS_MIN_BITRATE}…${OPUS_MAX_BITRATE}`);
    }
    const complexity = options.complexity ?? 9;
    if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) throw new MediaError('bad_profile', `Opus complexity ${complexity} is outside 0…10`);
    const fec = options.fec ?? false;
    const loss = options.expectedPacketLossPercent ?? (fec ? 10 : 0);
    if (!Number.isInteger(loss) || loss < 0 || loss > 100) throw new MediaError('bad_profile', `packet loss ${loss} % is outside 0…100`);

    this.sampleRate = sampleRate;
    this.channels = channels;
    this.frameBytes = pcmFrameBytes(sampleRate, channels);
    this.metrics = options.metrics;
    const encoder = new OpusEncoder(sampleRate, channels);
    try {
      // The application can only change before the first frame; the binding defaults to AUDIO.
      encoder.applyEncoderCTL(OPUS_SET_APPLICATION, OPUS_APPLICATION_VOIP);
      encoder.applyEncoderCTL(OPUS_SET_BITRATE, bitrate);
      encoder.applyEncoderCTL(OPUS_SET_VBR, 1);
      encoder.applyEncoderCTL(OPUS_SET_COMPLEXITY, complexity);
      encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, fec ? 1 : 0);
      encoder.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, loss);
      encoder.applyEncoderCTL(OPUS_SET_DTX, options.dtx ? 1 : 0);
    } catch (err) {
      throw new MediaError('bad_profile', `libopus refused the settings: ${(err as Error).message}`);
    }
    this.encoder = encoder;
    this.metrics?.activeEncoders.inc({ kind: 'audio' });
  }

  get closed(): boolean {
    return this.encoder === undefined;
  }

  /** Encodes exactly one 20 ms frame of interleaved s16le PCM into one Opus packet. */
  encode(pcm: Uint8Array): Buffer {
    const encoder = this.encoder;
    if (encoder === undefined) throw new MediaError('encoder_closed', 'the Opus encoder is closed');
    if (pcm.byteLength !== this.frameBytes) {
      this.metrics?.dropped.inc({ kind: 'audio', reason: 'bad_frame' });
      throw new MediaError('wrong_frame_size', `PCM frame of ${pcm.byteLength} bytes; 20 ms at ${this.sampleRate} Hz × ${this.channels} ch is ${this.frameBytes}`);
    }
    const started = performance.now();
    const input = Buffer.isBuffer(pcm) ? pcm : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const packet = encoder.encode(input);
    if (this.metrics !== undefined) {
      this.metrics.framesIn.inc({ kind: 'audio', codec: 'opus' });
      this.metrics.framesOut.inc({ kind: 'audio', codec: 'opus' });
      this.metrics.encodeLatency.observe({ kind: 'audio' }, (performance.now() - started) / 1000);
    }
    return packet;
  }

  /**
   * Releases the encoder. The binding has no explicit destroy: dropping the only reference lets
   * the garbage collector run its destructor (opus_encoder_destroy). Idempotent.
   */
  close(): void {
    if (this.encoder === undefined) return;
    this.encoder = undefined;
    this.metrics?.activeEncoders.dec({ kind: 'audio' });
  }
}
