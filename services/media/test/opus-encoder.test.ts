import { OpusEncoder } from '@discordjs/opus';
import { Registry } from 'prom-client';
import { MediaError } from '@commucat/media-format';
import { mediaMetrics } from '../src/media-metrics';
import { OpusStreamEncoder, opusOptionsFromProfile, pcmFrameBytes } from '../src/opus-encoder';

const RATE = 48_000;
const FRAME_SAMPLES = 960;

/** 20 ms frames of a sine (same signal on every channel), interleaved s16le. */
function sineFrames(count: number, channels: number, hz = 440, amplitude = 8000): Buffer[] {
  const frames: Buffer[] = [];
  for (let f = 0; f < count; f++) {
    const frame = Buffer.alloc(FRAME_SAMPLES * channels * 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const sample = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (f * FRAME_SAMPLES + i)) / RATE));
      for (let c = 0; c < channels; c++) frame.writeInt16LE(sample, (i * channels + c) * 2);
    }
    frames.push(frame);
  }
  return frames;
}

function rms(frames: Buffer[]): number {
  let sum = 0;
  let n = 0;
  for (const frame of frames) {
    for (let i = 0; i < frame.length; i += 2) {
      const s = frame.readInt16LE(i);
      sum += s * s;
      n++;
    }
  }
  return Math.sqrt(sum / n);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof MediaError ? err.code : `not a MediaError: ${String(err)}`;
  }
  return undefined;
}

describe.each([1, 2] as const)('Opus round trip, %i channel(s)', (channels) => {
  it('decodes back to full frames with the input’s energy', () => {
    const encoder = new OpusStreamEncoder({ sampleRate: RATE, channels, bitrate: 32_000 });
    expect(encoder.frameBytes).toBe(1920 * channels);
    const input = sineFrames(50, channels);
    const packets = input.map((frame) => encoder.encode(frame));
    const decoder = new OpusEncoder(RATE, channels);
    const decoded = packets.map((packet) => decoder.decode(packet));
    for (const frame of decoded) expect(frame.length).toBe(1920 * channels);
    for (const packet of packets) expect(packet.length).toBeLessThan(200);
    // Skip the first frames: the codec's look-ahead delays the signal by a few ms.
    const inRms = rms(input.slice(5));
    const outRms = rms(decoded.slice(5));
    expect(outRms / inRms).toBeGreaterThan(0.8);
    expect(outRms / inRms).toBeLessThan(1.2);
    encoder.close();
  });
});

describe('OpusStreamEncoder', () => {
  it('takes the profile bitrate in bit/s: 64 000 gives much bigger packets than 12 000', () => {
    const noise = Array.from({ length: 50 }, (_, f) => {
      const frame = Buffer.alloc(1920);
      for (let i = 0; i < 960; i++) frame.writeInt16LE(Math.round(Math.sin(f * 960 + i * 1.7) * 4000 + Math.sin(i * 0.31 + f) * 3000), i * 2);
      return frame;
    });
    const meanBytes = (bitrate: number): number => {
      const encoder = new OpusStreamEncoder({ sampleRate: RATE, channels: 1, bitrate });
      const total = noise.reduce((sum, frame) => sum + encoder.encode(frame).length, 0);
      encoder.close();
      return total / noise.length;
    };
    const low = meanBytes(12_000);
    const high = meanBytes(64_000);
    // 12 kbit/s × 20 ms = 30 bytes, 64 kbit/s × 20 ms = 160 bytes (VBR wanders around the target).
    expect(low).toBeLessThan(50);
    expect(high).toBeGreaterThan(100);
  });

  it('refuses frames of the wrong length and keeps working', () => {
    const registry = new Registry();
    const metrics = mediaMetrics(registry);
    const encoder = new OpusStreamEncoder({ sampleRate: RATE, channels: 1, bitrate: 16_000, metrics });
    const [good] = sineFrames(1, 1);
    expect(codeOf(() => encoder.encode(Buffer.alloc(1918)))).toBe('wrong_frame_size');
    expect(codeOf(() => encoder.encode(Buffer.alloc(3840)))).toBe('wrong_frame_size'); // stereo-sized for a mono stream
    expect(codeOf(() => encoder.encode(Buffer.alloc(0)))).toBe('wrong_frame_size');
    expect(encoder.encode(good!).length).toBeGreaterThan(0);
    expect(codeOf(() => encoder.encode(new Uint8Array(good!)))).toBeUndefined();
    return registry.getSingleMetricAsString('commucat_media_dropped_total').then((text) => {
      expect(text).toContain('commucat_media_dropped_total{kind="audio",reason="bad_frame"} 3');
    });
  });

  it('counts frames and open encoders in the metrics', async () => {
    const registry = new Registry();
    const metrics = mediaMetrics(registry);
    const encoder = new OpusStreamEncoder({ sampleRate: RATE, channels: 1, bitrate: 16_000, metrics });
    for (const frame of sineFrames(4, 1)) encoder.encode(frame);
    expect((await metrics.framesOut.get()).values[0]?.value).toBe(4);
    expect((await metrics.encodeLatency.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(4);
    expect((await metrics.activeEncoders.get()).values[0]?.value).toBe(1);
    encoder.close();
    encoder.close(); // idempotent
    expect((await metrics.activeEncoders.get()).values[0]?.value).toBe(0);
  });

  it('refuses to encode after close()', () => {
    const encoder = new OpusStreamEncoder({ sampleRate: RATE, channels: 1, bitrate: 16_000 });
    encoder.close();
    expect(encoder.closed).toBe(true);
    expect(codeOf(() => encoder.encode(sineFrames(1, 1)[0]!))).toBe('encoder_closed');
  });

  it('refuses settings libopus cannot use', () => {
    expect(codeOf(() => new OpusStreamEncoder({ sampleRate: 44_100, channels: 1, bitrate: 16_000 }))).toBe('bad_profile');
    expect(codeOf(() => new OpusStreamEncoder({ sampleRate: RATE, channels: 3 as 1, bitrate: 16_000 }))).toBe('bad_profile');
    // 16 would be "16 kbit/s" written in the wrong unit.
    expect(codeOf(() => new OpusStreamEncoder({ sampleRate: RATE, channels: 1, bitrate: 16 }))).toBe('bad_profile');
    expect(codeOf(() => new OpusStreamEncoder({ sampleRate: RATE, channels: 1, bitrate: 16_000, complexity: 11 }))).toBe('bad_profile');
  });

  it('reads a call profile’s audio object and sizes frames from it', () => {
    const options = opusOptionsFromProfile({ codec: 'opus', bitrate: 24_000, sample_rate: 16_000, channels: 1, fec: true });
    expect(options).toMatchObject({ sampleRate: 16_000, channels: 1, bitrate: 24_000, fec: true, dtx: false });
    const encoder = new OpusStreamEncoder(options);
    expect(encoder.frameBytes).toBe(640);
    expect(encoder.encode(Buffer.alloc(640)).length).toBeGreaterThan(0);
    encoder.close();
    expect(pcmFrameBytes(8000, 1)).toBe(320);
    expect(codeOf(() => opusOptionsFromProfile({ codec: 'opus', bitrate: 24_000, sample_rate: 48_000, channels: 6 }))).toBe('bad_profile');
  });
});
