/**
 * Synthetic raw media for call-simulate: what a capturing client would send with source "raw".
 * Frames are computed from their index alone, so every stream of a kind can share one buffer per
 * tick and a test can recompute any frame.
 */

export const AUDIO_SAMPLE_RATE = 48_000;
export const AUDIO_CHANNELS = 1;
/** The media service takes exactly one 20 ms frame per MediaInput (spec calls-media §4.3). */
export const AUDIO_FRAME_MS = 20;
export const AUDIO_SAMPLES_PER_FRAME = (AUDIO_SAMPLE_RATE / 1000) * AUDIO_FRAME_MS;

/** A -6 dBFS tone: loud enough to keep Opus out of DTX silence, far from clipping. */
const TONE_AMPLITUDE = 16_384;

/** Bytes of one 20 ms s16le frame (48 kHz mono: 1 920). */
export function pcmFrameBytes(sampleRate = AUDIO_SAMPLE_RATE, channels = AUDIO_CHANNELS): number {
  return (sampleRate / 1000) * AUDIO_FRAME_MS * channels * 2;
}

/**
 * Frame `frameIndex` of a continuous sine tone, interleaved s16le. The phase runs on across frames
 * (sample n of the stream is sin(2π·f·n/rate)), so consecutive frames join without a click.
 */
export function sinePcmFrame(frameIndex: number, frequencyHz = 440, sampleRate = AUDIO_SAMPLE_RATE, channels = AUDIO_CHANNELS): Buffer {
  const samples = (sampleRate / 1000) * AUDIO_FRAME_MS;
  const frame = Buffer.alloc(samples * channels * 2);
  const first = frameIndex * samples;
  for (let i = 0; i < samples; i++) {
    const value = Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * frequencyHz * (first + i)) / sampleRate));
    for (let c = 0; c < channels; c++) frame.writeInt16LE(value, (i * channels + c) * 2);
  }
  return frame;
}

/** Bytes of one tightly packed I420 picture: W·H luma + two ⌈W/2⌉·⌈H/2⌉ chroma planes (spec §4.4). */
export function i420FrameBytes(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * Frame `frameIndex` of a diagonal gradient that moves 2 pixels per frame, as planar I420. The motion
 * makes the VP8 encoder do real inter-frame work instead of coding a still picture.
 */
export function gradientI420Frame(frameIndex: number, width: number, height: number): Buffer {
  const frame = Buffer.alloc(i420FrameBytes(width, height));
  const shift = frameIndex * 2;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) frame[row + x] = (x + y + shift) & 0xff;
  }
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const uStart = width * height;
  const vStart = uStart + chromaWidth * chromaHeight;
  for (let y = 0; y < chromaHeight; y++) {
    for (let x = 0; x < chromaWidth; x++) {
      const at = y * chromaWidth + x;
      frame[uStart + at] = (64 + x + shift) & 0xff;
      frame[vStart + at] = (192 - y + shift) & 0xff;
    }
  }
  return frame;
}
