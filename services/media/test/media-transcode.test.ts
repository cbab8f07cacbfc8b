// Per-subscriber transcoding through the media worker, on the real NATS of the local stack and
// real ffmpeg: encoded VP8/VP9 frames of a sender go in with a target size and a stream tag, VP8
// packets of that size come out for the tag's receivers.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { MediaInput, MediaOutput } from '@commucat/contracts';
import { isVp8Keyframe } from '../src/ivf-reader';
import { mediaMetrics } from '../src/media-metrics';
import type { MediaWorker } from '../src/media-worker';
import { pcmFrameBytes } from '../src/opus-encoder';
import { i420FrameBytes } from '../src/vp8-encoder';
import { MediaTestRig, alive, decodeVp8Packets, encodeTestSource, eventually, token } from './media-test-support';

jest.setTimeout(60_000);

const AUDIO = { codec: 'opus', bitrate: 24_000, sample_rate: 48_000, channels: 1 };
const PROFILE = JSON.stringify({ audio: AUDIO, video: { codec: 'vp9', max_bitrate: 300_000, max_resolution: { width: 320, height: 240 }, frame_rate: 15 } });

let rig: MediaTestRig;
let worker: MediaWorker;
const replica = token('tx');

beforeAll(async () => {
  rig = await MediaTestRig.connect();
  worker = await rig.startWorker(replica);
});

afterAll(async () => {
  await rig?.close();
});

type Frame = Partial<MediaInput> & Pick<MediaInput, 'callId'>;

/** One encoded source frame as the router forwards it to the replica (receivedAtUs names it). */
function sendSource(replicaId: string, frame: Frame & { body: Buffer; receivedAtUs: number }): MediaInput {
  return rig.send(replicaId, { kind: 'video', profileJson: PROFILE, sourceCodec: 'vp8', ...frame });
}

/** Sends a frame and waits for the packet made from it (frames go one at a time, so nothing is dropped for back-pressure). */
async function sendAndAwait(replicaId: string, frame: Frame & { body: Buffer; receivedAtUs: number }): Promise<MediaOutput> {
  sendSource(replicaId, frame);
  return eventually(() => rig.outputsOf(frame.callId).find((o) => o.receivedAtUs === frame.receivedAtUs && o.streamTag === (frame.streamTag ?? '')), `the packet of frame ${frame.receivedAtUs}`);
}

/** The same test picture scaled by ffmpeg alone, as raw I420 (what a perfect transcode would show). */
function scaledReference(frames: number, width: number, height: number): Buffer {
  return execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-frames:v', String(frames),
    '-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-',
  ], { maxBuffer: 64 * 1024 * 1024 });
}

function lumaPsnr(a: Buffer, b: Buffer, pixels: number): number {
  let sum = 0;
  for (let i = 0; i < pixels; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / pixels;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

const frameOf = (decoded: Buffer, index: number, width: number, height: number): Buffer => {
  const bytes = i420FrameBytes(width, height);
  return decoded.subarray(index * bytes, (index + 1) * bytes);
};

describe('per-subscriber transcoding', () => {
  test('VP9 frames become VP8 of the target size for the tag’s receivers, the first a keyframe, showing the source picture', async () => {
    const source = encodeTestSource('vp9', { width: 320, height: 240, frames: 20 });
    expect(source[0]!.keyframe).toBe(true);
    const callId = token('call');
    const got: MediaOutput[] = [];
    for (const [i, frame] of source.entries()) {
      got.push(await sendAndAwait(replica, {
        callId, body: frame.data, sourceCodec: 'vp9', targetWidth: 160, targetHeight: 120, streamTag: 'vp8-160x120', recipientDeviceIds: ['dev-c'], receivedAtUs: 1_000 + i,
      }));
    }
    expect(rig.outputsOf(callId)).toHaveLength(20);
    expect(got.every((o) => o.codec === 'vp8' && o.kind === 'video' && o.streamTag === 'vp8-160x120' && o.senderDeviceId === 'dev-a')).toBe(true);
    expect(got.every((o) => o.recipientDeviceIds.length === 1 && o.recipientDeviceIds[0] === 'dev-c')).toBe(true);
    expect(got[0]!.keyframe).toBe(true);
    expect(got.map((o) => o.keyframe)).toEqual(got.map((o) => isVp8Keyframe(o.packet)));

    const decoded = await decodeVp8Packets(got.map((o) => o.packet), 160, 120);
    expect(decoded.length).toBe(20 * i420FrameBytes(160, 120));
    const reference = scaledReference(20, 160, 120);
    expect(lumaPsnr(frameOf(decoded, 19, 160, 120), frameOf(reference, 19, 160, 120), 160 * 120)).toBeGreaterThan(22);
    expect(rig.refusalsOf(callId)).toEqual([]);
  });

  test('a VP8 source is scaled down the same way, with the configured encoder settings on the ffmpeg command line', async () => {
    const tuned = await rig.startWorker(token('tuned'), { tuning: { vp8CpuUsed: 5 } });
    const source = encodeTestSource('vp8', { width: 320, height: 240, frames: 8 });
    const callId = token('call');
    const got: MediaOutput[] = [];
    for (const [i, frame] of source.entries()) {
      got.push(await sendAndAwait(tuned.replicaId, { callId, body: frame.data, targetWidth: 160, targetHeight: 120, streamTag: 'small', receivedAtUs: 2_000 + i }));
    }
    expect(got[0]!.keyframe).toBe(true);
    const decoded = await decodeVp8Packets(got.map((o) => o.packet), 160, 120);
    expect(decoded.length).toBe(8 * i420FrameBytes(160, 120));

    const [pid] = tuned.ffmpegPids(callId);
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const after = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    expect(after('-f')).toBe('ivf'); // the input: IVF on stdin
    expect(after('-vf')).toBe('scale=160:120');
    expect(after('-cpu-used')).toBe('5');
    expect(after('-b:v')).toBe('300000');
    expect(after('-lag-in-frames')).toBe('0');
  });

  test('a 0×0 target is the profile’s max_resolution', async () => {
    const source = encodeTestSource('vp8', { width: 160, height: 120, frames: 3 });
    const callId = token('call');
    const got: MediaOutput[] = [];
    for (const [i, frame] of source.entries()) got.push(await sendAndAwait(replica, { callId, body: frame.data, receivedAtUs: 3_000 + i }));
    const decoded = await decodeVp8Packets(got.map((o) => o.packet), 320, 240);
    expect(decoded.length).toBe(3 * i420FrameBytes(320, 240));
  });

  test('frames before the first source keyframe are dropped and counted; the stream starts at the keyframe', async () => {
    const gated = await rig.startWorker(token('gate'));
    const source = encodeTestSource('vp8', { width: 320, height: 240, frames: 15, keyframeInterval: 10 });
    expect(source.map((f) => f.keyframe).indexOf(true, 1)).toBe(10);
    const callId = token('call');
    const frame = (i: number) => ({ callId, body: source[i]!.data, targetWidth: 160, targetHeight: 120, receivedAtUs: 4_000 + i });
    for (let i = 3; i < 10; i++) sendSource(gated.replicaId, frame(i));
    const got: MediaOutput[] = [];
    for (let i = 10; i < 15; i++) got.push(await sendAndAwait(gated.replicaId, frame(i)));
    expect(rig.outputsOf(callId).map((o) => o.receivedAtUs)).toEqual([4_010, 4_011, 4_012, 4_013, 4_014]);
    expect(got[0]!.keyframe).toBe(true);
    expect(gated.droppedFrames).toBe(7);
    expect(rig.refusalsOf(callId)).toEqual([]);
    const decoded = await decodeVp8Packets(got.map((o) => o.packet), 160, 120);
    expect(decoded.length).toBe(5 * i420FrameBytes(160, 120));
  });

  test('two tags of one sender are independent streams (own size and receivers); the call end closes both ffmpegs', async () => {
    const source = encodeTestSource('vp9', { width: 320, height: 240, frames: 6 });
    const callId = token('call');
    const tags = [
      { streamTag: 'vp8-160x120', targetWidth: 160, targetHeight: 120, recipientDeviceIds: ['dev-b'] },
      { streamTag: 'vp8-80x60', targetWidth: 80, targetHeight: 60, recipientDeviceIds: ['dev-c'] },
    ];
    for (const [i, frame] of source.entries()) {
      await Promise.all(tags.map((tag) => sendAndAwait(replica, { callId, body: frame.data, sourceCodec: 'vp9', ...tag, receivedAtUs: 5_000 + i })));
    }
    for (const tag of tags) {
      const got = rig.outputsOf(callId, tag.streamTag);
      expect(got).toHaveLength(6);
      expect(got[0]!.keyframe).toBe(true);
      expect(got.every((o) => o.recipientDeviceIds.join() === tag.recipientDeviceIds.join())).toBe(true);
      const decoded = await decodeVp8Packets(got.map((o) => o.packet), tag.targetWidth, tag.targetHeight);
      expect(decoded.length).toBe(6 * i420FrameBytes(tag.targetWidth, tag.targetHeight));
    }
    const pids = worker.ffmpegPids(callId);
    expect(new Set(pids).size).toBe(2);
    expect(pids.every(alive)).toBe(true);

    rig.endCall(callId);
    await eventually(() => !pids.some(alive), 'both ffmpegs of the ended call to exit');
    expect(worker.ffmpegPids(callId)).toEqual([]);
  });

  test('a decoder stuck on undecodable frames is restarted and the stream resumes at the next source keyframe', async () => {
    const registry = new Registry();
    const stalled = await rig.startWorker(token('stall'), { metrics: mediaMetrics(registry), transcodeStallTimeoutMs: 150 });
    const source = encodeTestSource('vp9', { width: 320, height: 240, frames: 14, keyframeInterval: 10 });
    const callId = token('call');
    const frame = (i: number, body = source[i]!.data) => ({ callId, body, sourceCodec: 'vp9', targetWidth: 160, targetHeight: 120, receivedAtUs: 6_000 + i });
    await sendAndAwait(stalled.replicaId, frame(0));
    const [firstPid] = stalled.ffmpegPids(callId);

    // A VP9 inter frame header and nothing else: structurally a frame, but no decoder can use it.
    const undecodable = Buffer.from([0x86, 0x00]);
    for (let i = 0; i < 5; i++) {
      sendSource(stalled.replicaId, frame(100 + i, undecodable));
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 1; i < 10; i++) sendSource(stalled.replicaId, frame(i));
    const got: MediaOutput[] = [];
    for (let i = 10; i < 14; i++) got.push(await sendAndAwait(stalled.replicaId, frame(i)));

    expect(rig.outputsOf(callId).map((o) => o.receivedAtUs)).toEqual([6_000, 6_010, 6_011, 6_012, 6_013]);
    expect(got[0]!.keyframe).toBe(true);
    const restarts = (await registry.getSingleMetric('commucat_media_encoder_restarts_total')!.get()).values;
    expect(restarts).toEqual([expect.objectContaining({ labels: { kind: 'video', reason: 'stall' }, value: 1 })]);
    await eventually(() => !alive(firstPid!), 'the stuck ffmpeg to exit');
    expect(stalled.ffmpegPids(callId)).toHaveLength(1);
    expect(stalled.ffmpegPids(callId)[0]).not.toBe(firstPid);
    expect(stalled.droppedFrames).toBe(5 + 9);
    expect(rig.refusalsOf(callId)).toEqual([]);
    const decoded = await decodeVp8Packets(got.map((o) => o.packet), 160, 120);
    expect(decoded.length).toBe(4 * i420FrameBytes(160, 120));
  });

  test('garbage as vp8 never crashes the worker: refused as bad_envelope, the stream recovers at the next keyframe, other calls go on', async () => {
    const source = encodeTestSource('vp8', { width: 320, height: 240, frames: 13, keyframeInterval: 10 });
    const callId = token('call');
    const frame = (i: number, body = source[i]!.data) => ({ callId, body, targetWidth: 160, targetHeight: 120, receivedAtUs: 7_000 + i });
    await sendAndAwait(replica, frame(0));

    const garbage = [Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(0), ...Array.from({ length: 30 }, (_, i) => randomBytes(100 + i * 50))];
    garbage.forEach((body, i) => sendSource(replica, frame(100 + i, body)));
    // Another call on the same replica is encoded meanwhile.
    const other = token('call');
    rig.send(replica, { callId: other, kind: 'audio', body: Buffer.alloc(pcmFrameBytes(48_000, 1)), profileJson: PROFILE });
    await eventually(() => rig.outputsOf(other).length === 1, 'the other call’s packet');

    const got: MediaOutput[] = [];
    for (let i = 10; i < 13; i++) got.push(await sendAndAwait(replica, frame(i)));
    expect(got[0]!.keyframe).toBe(true);
    const refusals = rig.refusalsOf(callId);
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(new Set(refusals.map((r) => r.code))).toEqual(new Set(['bad_envelope']));
    expect(refusals[0]!.detail).toMatch(/not a vp8 frame/);
    const decoded = await decodeVp8Packets(got.map((o) => o.packet), 160, 120);
    expect(decoded.length).toBe(3 * i420FrameBytes(160, 120));
  });

  test('other source codecs, encoded audio and half a target size are refused with stable codes', async () => {
    const source = encodeTestSource('vp8', { width: 160, height: 120, frames: 1 });
    const cases: [string, Partial<MediaInput>, string][] = [
      ['h264', { sourceCodec: 'h264' }, 'unsupported_codec'],
      ['audio', { kind: 'audio', sourceCodec: 'vp8' }, 'unsupported_codec'],
      ['half size', { targetWidth: 160, targetHeight: 0 }, 'bad_envelope'],
      ['no video', { profileJson: JSON.stringify({ audio: AUDIO }) }, 'unsupported'],
    ];
    const callIds = cases.map(([name]) => token(name.replace(/ /g, '_')));
    cases.forEach(([, input], i) => sendSource(replica, { callId: callIds[i]!, body: source[0]!.data, receivedAtUs: 8_000 + i, ...input }));
    await eventually(() => callIds.every((id) => rig.refusalsOf(id).length === 1), 'one refusal per case');
    expect(callIds.map((id) => rig.refusalsOf(id)[0]!.code)).toEqual(cases.map(([, , code]) => code));
    expect(callIds.flatMap((id) => worker.ffmpegPids(id))).toEqual([]);
  });
});

