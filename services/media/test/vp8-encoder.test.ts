// Real ffmpeg/libvpx: frames go through an actual ffmpeg process and are decoded back by another.
import { Registry } from 'prom-client';
import { MediaError } from '@commucat/media-format';
import { mediaMetrics } from '../src/media-metrics';
import { decodeVp8Packets } from './media-test-support';
import { vp8OutputOptions } from '../src/ffmpeg-vp8-process';
import { Vp8StreamEncoder, i420FrameBytes, vp8OptionsFromProfile, type EncodedVideoFrame, type Vp8StreamOptions } from '../src/vp8-encoder';

jest.setTimeout(30_000);

const W = 320;
const H = 240;
const FRAME_BYTES = i420FrameBytes(W, H);

/** A smooth moving picture: a diagonal gradient and a bright square that moves with `i`. */
function smoothFrame(i: number, width = W, height = H): Buffer {
  const frame = Buffer.alloc(i420FrameBytes(width, height), 128);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inSquare = x >= 20 + i * 4 && x < 80 + i * 4 && y >= 40 && y < 100;
      frame[y * width + x] = inSquare ? 235 : (x + y + i * 2) & 0xff;
    }
  }
  return frame;
}

/** Texture that costs bits at every quantizer (a gradient xor pseudo-random noise). */
function texturedFrame(i: number): Buffer {
  const frame = Buffer.alloc(FRAME_BYTES);
  let seed = i * 7919 + 1;
  for (let p = 0; p < W * H; p++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    frame[p] = (((p % W) * 3 + Math.floor(p / W) * 2 + i * 4) & 0xff) ^ ((seed >> 16) & 31);
  }
  for (let p = W * H; p < frame.length; p++) frame[p] = 128 + ((p + i) & 15);
  return frame;
}

interface Harness {
  encoder: Vp8StreamEncoder;
  frames: EncodedVideoFrame[];
  errors: MediaError[];
  /** Resolves once `count` frames have come out in total. */
  waitFor(count: number): Promise<EncodedVideoFrame[]>;
}

const open: Vp8StreamEncoder[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((encoder) => encoder.close()));
});

function harness(options: Partial<Vp8StreamOptions> = {}): Harness {
  const frames: EncodedVideoFrame[] = [];
  const errors: MediaError[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const encoder = new Vp8StreamEncoder({
    width: W, height: H, frameRate: 30, bitrate: 500_000, keyframeIntervalFrames: 1000,
    ...options,
    onFrame: (frame) => {
      frames.push(frame);
      for (const waiter of waiters.filter((w) => frames.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    onError: (error) => errors.push(error),
  });
  open.push(encoder);
  return {
    encoder, frames, errors,
    waitFor: (count) => (frames.length >= count
      ? Promise.resolve(frames)
      : new Promise((resolve) => waiters.push({ count, resolve: () => resolve(frames) }))),
  };
}

/** Wraps bare VP8 frames in IVF and decodes them with ffmpeg to raw I420. */
function decodeWithFfmpeg(frames: EncodedVideoFrame[], width: number, height: number): Promise<Buffer> {
  return decodeVp8Packets(frames.map((frame) => frame.data), width, height);
}

function lumaPsnr(a: Buffer, b: Buffer, pixels: number): number {
  let sum = 0;
  for (let i = 0; i < pixels; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / pixels;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the stream runs `count` live ffmpeg processes (the standby starts in the background). */
async function waitForProcesses(encoder: Vp8StreamEncoder, count: number): Promise<number[]> {
  while (encoder.pids.length !== count) await delay(20);
  return encoder.pids;
}

describe('Vp8StreamEncoder with real ffmpeg', () => {
  it('encodes I420 to VP8 that ffmpeg decodes back to the same picture size and content', async () => {
    const { encoder, waitFor } = harness({ queueCapacity: 12 });
    const input = Array.from({ length: 12 }, (_, i) => smoothFrame(i));
    for (const frame of input) encoder.push(frame);
    const frames = (await waitFor(12)).slice(0, 12);
    expect(frames.map((f) => f.sequence)).toEqual(input.map((_, i) => i));
    expect(frames.map((f) => f.keyframe)).toEqual([true, ...Array<boolean>(11).fill(false)]);
    for (const frame of frames) expect(frame.latencyMs).toBeGreaterThanOrEqual(frame.encodeMs);

    const decoded = await decodeWithFfmpeg(frames, W, H);
    expect(decoded.length).toBe(12 * FRAME_BYTES);
    for (let i = 0; i < 12; i++) {
      const picture = decoded.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES);
      expect(lumaPsnr(picture, input[i]!, W * H)).toBeGreaterThan(30);
    }
    // The decoder really compares pictures: frame 0 does not match frame 11.
    expect(lumaPsnr(decoded.subarray(0, FRAME_BYTES), input[11]!, W * H)).toBeLessThan(20);
  });

  it('builds its settings from a call profile (max_resolution, frame_rate, max_bitrate)', async () => {
    const options = vp8OptionsFromProfile(
      { codec: 'vp8', max_bitrate: 350_000, max_resolution: { width: 160, height: 90 }, frame_rate: 20 },
      { onFrame: () => undefined },
    );
    expect(options).toMatchObject({ width: 160, height: 90, frameRate: 20, bitrate: 350_000 });
    const { encoder, waitFor } = harness({ ...options, onFrame: undefined as never });
    expect(encoder.frameBytes).toBe(160 * 90 * 3 / 2);
    encoder.push(smoothFrame(0, 160, 90));
    const [frame] = await waitFor(1);
    const decoded = await decodeWithFfmpeg([frame!], 160, 90);
    expect(decoded.length).toBe(160 * 90 * 3 / 2);
  });

  it('passes the bitrate to libvpx in the right unit (output near the target, not 1000× above it)', async () => {
    expect(vp8OutputOptions({ width: W, height: H, frameRate: 30, bitrate: 300_000, cpuUsed: 8, keyframeIntervalFrames: 60 }))
      .toEqual(expect.arrayContaining(['-b:v', '300000', '-lag-in-frames', '0', '-deadline', 'realtime']));
    const measureKbps = async (bitrate: number): Promise<number> => {
      const { encoder, waitFor } = harness({ bitrate, queueCapacity: 30, warmStandby: false });
      for (let i = 0; i < 30; i++) encoder.push(texturedFrame(i));
      const frames = await waitFor(30);
      const bytes = frames.slice(1).reduce((sum, f) => sum + f.data.length, 0); // without the keyframe
      return (bytes * 8) / (29 / 30) / 1000;
    };
    const low = await measureKbps(300_000);
    const high = await measureKbps(1_200_000);
    expect(low).toBeLessThan(600); // a ×1000 target (the reference's unit bug) gives ≈ 9 Mbit/s on this texture
    expect(high).toBeGreaterThan(2 * low);
  });

  it('starts with a keyframe and makes the next frame a keyframe on request (warm standby)', async () => {
    const { encoder, waitFor } = harness();
    for (let i = 0; i < 4; i++) {
      encoder.push(smoothFrame(i));
      await waitFor(i + 1);
    }
    const firstPids = await waitForProcesses(encoder, 2); // [active, standby]
    await delay(200); // let the standby finish loading ffmpeg
    encoder.requestKeyframe();
    for (let i = 4; i < 7; i++) {
      encoder.push(smoothFrame(i));
      await waitFor(i + 1);
    }
    const frames = await waitFor(7);
    expect(frames.map((f) => f.keyframe)).toEqual([true, false, false, false, true, false, false]);
    expect(frames.map((f) => f.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(encoder.stats.keyframeSwitches).toBe(1);
    // the standby took over, and the old process is on its way out
    expect(encoder.pids).toContain(firstPids[1]);
    expect((await decodeWithFfmpeg(frames, W, H)).length).toBe(7 * FRAME_BYTES);
  });

  it('makes a keyframe on request without a standby too (cold restart)', async () => {
    const { encoder, waitFor } = harness({ warmStandby: false });
    encoder.push(smoothFrame(0));
    encoder.push(smoothFrame(1));
    await waitFor(2);
    encoder.requestKeyframe();
    encoder.push(smoothFrame(2));
    encoder.push(smoothFrame(3));
    const frames = await waitFor(4);
    expect(frames.map((f) => f.keyframe)).toEqual([true, false, true, false]);
    expect(encoder.pids).toHaveLength(1);
  });

  it('ignores a keyframe request before the first frame (that one is a keyframe anyway)', async () => {
    const { encoder, waitFor } = harness();
    encoder.requestKeyframe();
    encoder.push(smoothFrame(0));
    encoder.push(smoothFrame(1));
    const frames = await waitFor(2);
    expect(frames.map((f) => f.keyframe)).toEqual([true, false]);
    expect(encoder.stats.keyframeSwitches).toBe(0);
  });

  it('refuses wrong-size frames and keeps encoding', async () => {
    const registry = new Registry();
    const metrics = mediaMetrics(registry);
    const { encoder, waitFor } = harness({ metrics });
    const codeOf = (frame: Uint8Array): string | undefined => {
      try {
        encoder.push(frame);
      } catch (err) {
        return (err as MediaError).code;
      }
      return undefined;
    };
    expect(codeOf(Buffer.alloc(FRAME_BYTES - 1))).toBe('wrong_frame_size');
    expect(codeOf(Buffer.alloc(W * H * 4))).toBe('wrong_frame_size'); // RGBA-sized
    expect(codeOf(smoothFrame(0))).toBeUndefined();
    const [frame] = await waitFor(1);
    expect(frame).toMatchObject({ sequence: 0, keyframe: true });
    expect(await registry.getSingleMetricAsString('commucat_media_dropped_total')).toContain('{kind="video",reason="bad_frame"} 2');
  });

  it('drops the oldest queued frames under back-pressure and counts them', async () => {
    const registry = new Registry();
    const metrics = mediaMetrics(registry);
    const { encoder, waitFor } = harness({ metrics, queueCapacity: 2, maxInFlight: 1 });
    // One frame goes straight to ffmpeg; the other nine compete for two queue slots.
    for (let i = 0; i < 10; i++) encoder.push(smoothFrame(i));
    expect(encoder.stats).toMatchObject({ framesIn: 10, droppedQueueFull: 7, queued: 2, inFlight: 1 });
    const frames = await waitFor(3);
    expect(frames.map((f) => f.sequence)).toEqual([0, 8, 9]);
    expect(await registry.getSingleMetricAsString('commucat_media_dropped_total')).toContain('{kind="video",reason="queue_full"} 7');
    expect(await registry.getSingleMetricAsString('commucat_media_frames_out_total')).toContain('{kind="video",codec="vp8"} 3');
  });

  it('replaces an ffmpeg process that dies, reports it, and restarts the picture with a keyframe', async () => {
    const { encoder, errors, waitFor } = harness({ warmStandby: false });
    encoder.push(smoothFrame(0));
    encoder.push(smoothFrame(1));
    await waitFor(2);
    const [victim] = encoder.pids;
    process.kill(victim!, 'SIGKILL');
    while (errors.length === 0) await delay(10);
    expect(errors[0]!.code).toBe('encoder_failed');
    expect(isGone(victim!)).toBe(true);
    encoder.push(smoothFrame(2));
    const frames = await waitFor(3);
    expect(frames[2]).toMatchObject({ sequence: 2, keyframe: true });
    expect(encoder.stats.failures).toBe(1);
  });

  it('close() ends every ffmpeg process it started and refuses later frames', async () => {
    const { encoder, waitFor } = harness();
    encoder.push(smoothFrame(0));
    await waitFor(1);
    const pids = await waitForProcesses(encoder, 2); // active and warm standby
    for (const pid of pids) expect(isGone(pid)).toBe(false);
    encoder.push(smoothFrame(1));
    await encoder.close();
    for (const pid of pids) expect(isGone(pid)).toBe(true);
    expect(encoder.pids).toEqual([]);
    expect(() => encoder.push(smoothFrame(2))).toThrow(expect.objectContaining({ code: 'encoder_closed' }) as MediaError);
  });

  it('refuses sizes, rates and bitrates it cannot encode', () => {
    const base = { width: W, height: H, frameRate: 30, bitrate: 500_000, onFrame: () => undefined };
    const codeOf = (options: Vp8StreamOptions): string | undefined => {
      try {
        open.push(new Vp8StreamEncoder(options));
      } catch (err) {
        return (err as MediaError).code;
      }
      return undefined;
    };
    expect(codeOf({ ...base, width: 0 })).toBe('bad_profile');
    expect(codeOf({ ...base, frameRate: 0 })).toBe('bad_profile');
    expect(codeOf({ ...base, bitrate: 750 })).toBe('bad_profile'); // kbit/s where bit/s belong
    expect(codeOf({ ...base, cpuUsed: 17 })).toBe('bad_profile');
  });
});
