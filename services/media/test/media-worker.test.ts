import { readFileSync } from 'node:fs';
// The media worker against the real NATS of the local stack (scripts/stack.sh), with real libopus
// and ffmpeg: frames go in on a replica's input subject, packets come back on the output subject.
import { OpusEncoder } from '@discordjs/opus';
import type { MediaInput, MediaOutput, MediaRefused } from '@commucat/contracts';
import { isVp8Keyframe } from '../src/ivf-reader';
import type { MediaWorker, MediaWorkerOptions } from '../src/media-worker';
import { pcmFrameBytes } from '../src/opus-encoder';
import { i420FrameBytes } from '../src/vp8-encoder';
import { MediaTestRig, alive, eventually, token } from './media-test-support';

jest.setTimeout(30_000);


const AUDIO = { codec: 'opus', bitrate: 24_000, sample_rate: 48_000, channels: 1 };
const VIDEO = { codec: 'vp8', max_bitrate: 300_000, max_resolution: { width: 160, height: 120 }, frame_rate: 15 };
const AUDIO_PROFILE = JSON.stringify({ audio: AUDIO });
const VIDEO_PROFILE = JSON.stringify({ audio: AUDIO, video: VIDEO });
const VIDEO_FRAME_BYTES = i420FrameBytes(160, 120);

/** One 20 ms frame of a 440 Hz sine, interleaved s16le. */
function pcmFrame(sampleRate = 48_000, channels = 1): Buffer {
  const samples = sampleRate / 50;
  const frame = Buffer.alloc(pcmFrameBytes(sampleRate, channels));
  for (let i = 0; i < samples; i++) {
    const value = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
    for (let c = 0; c < channels; c++) frame.writeInt16LE(value, (i * channels + c) * 2);
  }
  return frame;
}

/** A moving gradient, so consecutive frames differ. */
function i420Frame(index: number): Buffer {
  const frame = Buffer.alloc(VIDEO_FRAME_BYTES, 128);
  for (let p = 0; p < 160 * 120; p++) frame[p] = ((p % 160) + Math.floor(p / 160) + index * 8) & 0xff;
  return frame;
}

let rig: MediaTestRig;
const startWorker = (replicaId: string, options: Partial<MediaWorkerOptions> = {}): Promise<MediaWorker> => rig.startWorker(replicaId, options);
const send: MediaTestRig['send'] = (replicaId, frame) => rig.send(replicaId, frame);
const outputsOf = (callId: string): MediaOutput[] => rig.outputsOf(callId);
const refusalsOf = (callId: string): MediaRefused[] => rig.refusalsOf(callId);

beforeAll(async () => {
  rig = await MediaTestRig.connect();
});

afterAll(async () => {
  await rig?.close();
});

describe('media worker', () => {
  let worker: MediaWorker;
  const replica = token('r');
  beforeAll(async () => {
    worker = await startWorker(replica);
  });

  test('raw PCM becomes one Opus packet per frame that decodes back to 20 ms, routing copied', async () => {
    const callId = token('call');
    const sent = [0, 1, 2, 3].map(() => send(replica, { callId, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE }));
    const got = await eventually(() => outputsOf(callId).length === 4 && outputsOf(callId), 'four opus packets');
    const decoder = new OpusEncoder(48_000, 1);
    got.forEach((out, i) => {
      expect(out).toMatchObject({
        callId, channelId: 7, senderDeviceId: 'dev-a', kind: 'audio', codec: 'opus', keyframe: false,
        recipientDeviceIds: ['dev-b', 'dev-c'], receivedAtUs: sent[i]!.receivedAtUs,
      });
      expect(out.encodedAtUs).toBeGreaterThanOrEqual(out.receivedAtUs);
      expect(out.packet.length).toBeGreaterThan(0);
      expect(decoder.decode(out.packet).length).toBe(960 * 2);
    });

    // Another sender in the same call has its own encoder, here stereo at 24 kHz.
    const stereo = JSON.stringify({ audio: { ...AUDIO, sample_rate: 24_000, channels: 2 } });
    send(replica, { callId, senderDeviceId: 'dev-b', recipientDeviceIds: ['dev-a'], kind: 'audio', body: pcmFrame(24_000, 2), profileJson: stereo });
    const fromB = await eventually(() => outputsOf(callId).find((o) => o.senderDeviceId === 'dev-b'), 'dev-b packet');
    expect(fromB.recipientDeviceIds).toEqual(['dev-a']);
    expect(new OpusEncoder(24_000, 2).decode(fromB.packet).length).toBe(480 * 2 * 2);
  });

  test('raw I420 becomes VP8 packets in order, the first a keyframe', async () => {
    const callId = token('call');
    const sent = [0, 1, 2].map((i) => send(replica, { callId, kind: 'video', body: i420Frame(i), profileJson: VIDEO_PROFILE, receivedAtUs: 1_000_000 + i }));
    const got = await eventually(() => outputsOf(callId).length === 3 && outputsOf(callId), 'three vp8 packets');
    expect(got.map((o) => o.receivedAtUs)).toEqual(sent.map((s) => s.receivedAtUs));
    expect(got.every((o) => o.codec === 'vp8' && o.kind === 'video' && o.channelId === 7)).toBe(true);
    expect(got[0]!.keyframe).toBe(true);
    expect(isVp8Keyframe(got[0]!.packet)).toBe(true);
    expect(got.map((o) => o.keyframe)).toEqual(got.map((o) => isVp8Keyframe(o.packet)));
    expect(got[1]!.keyframe).toBe(false);
  });

  test('a wrong-size PCM frame is refused and the next good frame still encodes', async () => {
    const callId = token('call');
    send(replica, { callId, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    send(replica, { callId, channelId: 9, kind: 'audio', body: pcmFrame().subarray(0, 1000), profileJson: AUDIO_PROFILE });
    send(replica, { callId, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    await eventually(() => outputsOf(callId).length === 2, 'two packets around the bad frame');
    expect(refusalsOf(callId)).toEqual([
      { callId, channelId: 9, senderDeviceId: 'dev-a', kind: 'audio', code: 'wrong_frame_size', detail: expect.stringMatching(/1000 bytes.*1920/) },
    ]);
  });

  test('a wrong-size I420 frame is refused and the video stream goes on', async () => {
    const callId = token('call');
    send(replica, { callId, kind: 'video', body: i420Frame(0).subarray(1), profileJson: VIDEO_PROFILE });
    send(replica, { callId, kind: 'video', body: i420Frame(1), profileJson: VIDEO_PROFILE });
    const [out] = await eventually(() => outputsOf(callId).length === 1 && outputsOf(callId), 'the good frame');
    expect(out!.keyframe).toBe(true);
    expect(refusalsOf(callId).map((r) => r.code)).toEqual(['wrong_frame_size']);
  });

  test('profiles the worker cannot use are refused with their MediaError code, never crashing it', async () => {
    const cases: [string, Partial<MediaInput>, string][] = [
      ['garbage', { kind: 'audio', profileJson: '{not json' }, 'bad_profile'],
      ['not a profile', { kind: 'audio', profileJson: '{"video":null}' }, 'bad_profile'],
      ['unknown codec', { kind: 'audio', profileJson: JSON.stringify({ audio: { ...AUDIO, codec: 'aac' } }) }, 'unknown_codec'],
      ['raw_pcm call', { kind: 'audio', profileJson: JSON.stringify({ audio: { ...AUDIO, codec: 'raw_pcm' } }) }, 'unsupported'],
      ['no video', { kind: 'video', profileJson: AUDIO_PROFILE, body: i420Frame(0) }, 'unsupported'],
      ['bad rate', { kind: 'audio', profileJson: JSON.stringify({ audio: { ...AUDIO, sample_rate: 44_100 } }) }, 'bad_profile'],
      ['bad kind', { kind: 'text', profileJson: AUDIO_PROFILE }, 'bad_envelope'],
    ];
    const callIds = cases.map(([name]) => token(name.replace(/ /g, '_')));
    cases.forEach(([, frame], i) => send(replica, { callId: callIds[i]!, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE, ...frame }));
    await eventually(() => callIds.every((id) => refusalsOf(id).length === 1), 'one refusal per case');
    expect(callIds.map((id) => refusalsOf(id)[0]!.code)).toEqual(cases.map(([, , code]) => code));
    expect(callIds.some((id) => outputsOf(id).length > 0)).toBe(false);
    // Still working: a good frame on a fresh call encodes.
    const good = token('call');
    send(replica, { callId: good, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    await eventually(() => outputsOf(good).length === 1, 'a packet after the refusals');
  });

  test('a renegotiated profile rebuilds the stream’s encoder', async () => {
    const callId = token('call');
    send(replica, { callId, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    // 16 kHz frames are 640 bytes: only an encoder rebuilt from the new profile accepts them.
    send(replica, { callId, kind: 'audio', body: pcmFrame(16_000), profileJson: JSON.stringify({ audio: { ...AUDIO, sample_rate: 16_000 } }) });
    const got = await eventually(() => outputsOf(callId).length === 2 && outputsOf(callId), 'packets of both profiles');
    expect(new OpusEncoder(16_000, 1).decode(got[1]!.packet).length).toBe(320 * 2);
    expect(refusalsOf(callId)).toEqual([]);
  });

  test('a call end closes that call’s encoders and its ffmpeg exits; other calls go on', async () => {
    const ended = token('call');
    const other = token('call');
    send(replica, { callId: ended, kind: 'video', body: i420Frame(0), profileJson: VIDEO_PROFILE });
    send(replica, { callId: ended, kind: 'audio', body: pcmFrame(), profileJson: VIDEO_PROFILE });
    send(replica, { callId: other, kind: 'video', body: i420Frame(0), profileJson: VIDEO_PROFILE });
    await eventually(() => outputsOf(ended).length === 2 && outputsOf(other).length === 1, 'packets of both calls');
    const pids = worker.ffmpegPids(ended);
    const otherPids = worker.ffmpegPids(other);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every(alive)).toBe(true);

    rig.endCall(ended);
    await eventually(() => !pids.some(alive), 'the ended call’s ffmpeg to exit');
    expect(worker.ffmpegPids(ended)).toEqual([]);
    expect(otherPids.every(alive)).toBe(true);

    // A frame of the ended call still in flight does not start a new encoder.
    send(replica, { callId: ended, kind: 'video', body: i420Frame(1), profileJson: VIDEO_PROFILE });
    send(replica, { callId: other, kind: 'video', body: i420Frame(1), profileJson: VIDEO_PROFILE });
    await eventually(() => outputsOf(other).length === 2, 'the other call’s next packet');
    expect(worker.ffmpegPids(ended)).toEqual([]);
    expect(outputsOf(ended)).toHaveLength(2);
  });

  test('encoders take the configured speed settings (VP8 cpu-used on the ffmpeg command line)', async () => {
    const tuned = await startWorker(token('tuned'), { tuning: { vp8CpuUsed: 4, opusComplexity: 0 } });
    const callId = token('call');
    send(tuned.replicaId, { callId, kind: 'video', body: i420Frame(0), profileJson: VIDEO_PROFILE });
    send(tuned.replicaId, { callId, kind: 'audio', body: pcmFrame(), profileJson: VIDEO_PROFILE });
    await eventually(() => outputsOf(callId).length === 2, 'a packet of each kind');
    const [pid] = tuned.ffmpegPids(callId);
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(args[args.indexOf('-cpu-used') + 1]).toBe('4');
  });

  test('a keyframe request for the call makes its next video packet a keyframe', async () => {
    const callId = token('call');
    for (let n = 0; n < 5; n++) {
      send(replica, { callId, kind: 'video', body: i420Frame(n), profileJson: VIDEO_PROFILE });
      await eventually(() => outputsOf(callId).length === n + 1, `packet ${n + 1}`);
    }
    expect(outputsOf(callId).map((o) => o.keyframe)).toEqual([true, false, false, false, false]);
    rig.requestKeyframe(callId);
    await new Promise((r) => setTimeout(r, 200)); // the request travels over NATS like the frames
    send(replica, { callId, kind: 'video', body: i420Frame(5), profileJson: VIDEO_PROFILE });
    send(replica, { callId, kind: 'video', body: i420Frame(6), profileJson: VIDEO_PROFILE });
    await eventually(() => outputsOf(callId).length === 7, 'two packets after the request');
    expect(outputsOf(callId).slice(5).map((o) => o.keyframe)).toEqual([true, false]);
  });

  test('heartbeats carry the replica id, its streams and CPU time', async () => {
    const callId = token('call');
    send(replica, { callId, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    await eventually(() => outputsOf(callId).length === 1, 'a packet');
    const since = Date.now();
    const mine = await eventually(() => {
      const recent = rig.heartbeats.filter((h) => h.replicaId === replica && h.at >= since);
      return recent.length >= 3 && recent;
    }, 'three heartbeats');
    const last = mine[mine.length - 1]!;
    expect(last.activeStreams).toBe(worker.activeStreams);
    expect(last.activeStreams).toBeGreaterThan(0);
    expect(last.cpuSeconds).toBeGreaterThan(0);
    expect(last.droppedFrames).toBe(worker.droppedFrames);
    expect(mine[1]!.at).toBeGreaterThan(mine[0]!.at);
  });
});

describe('several replicas', () => {
  test('each replica takes only the frames of its own input subject', async () => {
    const [a, b] = [token('ra'), token('rb')];
    const workerA = await startWorker(a);
    const workerB = await startWorker(b);
    const [callA, callB, callNobody] = [token('call'), token('call'), token('call')];
    send(a, { callId: callA, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    send(b, { callId: callB, kind: 'video', body: i420Frame(0), profileJson: VIDEO_PROFILE });
    send(token('nobody'), { callId: callNobody, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    await eventually(() => outputsOf(callA).length === 1 && outputsOf(callB).length === 1, 'one packet per replica');
    expect([workerA.activeStreams, workerB.activeStreams]).toEqual([1, 1]);
    expect(workerA.ffmpegPids()).toEqual([]);
    expect(workerB.ffmpegPids(callB).length).toBeGreaterThan(0);
    await eventually(() => rig.heartbeats.some((h) => h.replicaId === a) && rig.heartbeats.some((h) => h.replicaId === b), 'heartbeats of both');
    expect(outputsOf(callNobody)).toEqual([]);
  });
});

describe('stream lifetime', () => {
  test('an idle stream is closed and its ffmpeg exits', async () => {
    const replica = token('idle');
    const worker = await startWorker(replica, { idleTimeoutMs: 400 });
    const callId = token('call');
    send(replica, { callId, kind: 'video', body: i420Frame(0), profileJson: VIDEO_PROFILE });
    await eventually(() => outputsOf(callId).length === 1, 'a packet');
    const pids = worker.ffmpegPids(callId);
    expect(pids.length).toBeGreaterThan(0);
    await eventually(() => worker.activeStreams === 0, 'the idle stream to close');
    await eventually(() => !pids.some(alive), 'its ffmpeg to exit');
  });

  test('stop() closes every encoder and resolves only once every ffmpeg has exited', async () => {
    const replica = token('stop');
    const worker = await startWorker(replica);
    const calls = [token('call'), token('call')];
    for (const callId of calls) send(replica, { callId, kind: 'video', body: i420Frame(0), profileJson: VIDEO_PROFILE });
    await eventually(() => calls.every((id) => outputsOf(id).length === 1), 'a packet per call');
    const pids = worker.ffmpegPids();
    expect(pids.length).toBeGreaterThanOrEqual(2);
    await worker.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(worker.activeStreams).toBe(0);

    // A stopped replica neither encodes nor heartbeats.
    const after = token('call');
    send(replica, { callId: after, kind: 'audio', body: pcmFrame(), profileJson: AUDIO_PROFILE });
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 600));
    expect(outputsOf(after)).toEqual([]);
    expect(rig.heartbeats.filter((h) => h.replicaId === replica && h.at > stoppedAt)).toEqual([]);
  });
});
