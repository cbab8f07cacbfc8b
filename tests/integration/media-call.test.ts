import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OpusEncoder } from '@discordjs/opus';
import { FrameType, type Frame } from '@commucat/ccp1';
import { Peer, control, freshChannel } from '../support/conversation';
import { connectTo, newIdentity } from '../support/fleet-client';
import { TestFleet } from '../support/fleet';

jest.setTimeout(120_000);

const MEDIA_HEADER = 'media-header-v1';
const W = 160;
const H = 120;
const FPS = 15;
const I420_BYTES = W * H * 3 / 2;
const PCM_BYTES = 960 * 2; // 48 kHz mono, 20 ms, s16le
const PROFILE = {
  audio: { codec: 'opus', bitrate: 32_000, sample_rate: 48_000, channels: 1, source: 'raw' },
  video: { codec: 'vp8', max_bitrate: 300_000, max_resolution: { width: W, height: H }, frame_rate: FPS, source: 'raw' },
};

const CAROL_PROFILE = { ...PROFILE, video: { ...PROFILE.video, codec: 'vp9', preferred_codecs: ['vp9', 'vp8'] } };

/** [version 1, source (0 encoded, 1 raw), codec] + body: what a `media-header-v1` client sends. */
const withHeader = (source: number, codec: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([1, source, codec]), body]);

function sinePcm(frameIndex: number, amplitude = 8000): Buffer {
  const out = Buffer.alloc(PCM_BYTES);
  for (let i = 0; i < 960; i++) out.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * 440 * (frameIndex * 960 + i)) / 48_000)), i * 2);
  return out;
}

function rms(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return Math.sqrt(sum / (pcm.length / 2));
}

/** A moving gradient, so the encoder has something to encode. */
function i420Frame(n: number): Buffer {
  const frame = Buffer.alloc(I420_BYTES, 128);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) frame[y * W + x] = (x + y + n * 4) & 0xff;
  return frame;
}

/** The packets as an IVF file, decoded by ffmpeg to raw I420: returns the decoded byte count. */
function decodeVp8(packets: Buffer[]): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'media-it-'));
  try {
    const header = Buffer.alloc(32);
    header.write('DKIF', 0);
    header.writeUInt16LE(0, 4);
    header.writeUInt16LE(32, 6);
    header.write('VP80', 8);
    header.writeUInt16LE(W, 12);
    header.writeUInt16LE(H, 14);
    header.writeUInt32LE(FPS, 16);
    header.writeUInt32LE(1, 20);
    header.writeUInt32LE(packets.length, 24);
    const parts: Buffer[] = [header];
    packets.forEach((p, i) => {
      const fh = Buffer.alloc(12);
      fh.writeUInt32LE(p.length, 0);
      fh.writeBigUInt64LE(BigInt(i), 4);
      parts.push(fh, p);
    });
    const file = path.join(dir, 'in.ivf');
    writeFileSync(file, Buffer.concat(parts));
    const out = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { maxBuffer: 64 * 1024 * 1024 });
    return out.length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isVp8Keyframe = (packet: Buffer): boolean => (packet[0]! & 1) === 0;

/** `count` VP9 frames of a test pattern at W×H, as a VP9 sender would produce them. */
function vp9Frames(count: number): Buffer[] {
  const ivf = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`, '-frames:v', String(count),
    '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '1000', '-f', 'ivf', 'pipe:1'], { maxBuffer: 16 * 1024 * 1024 });
  const frames: Buffer[] = [];
  for (let at = 32; at + 12 <= ivf.length;) {
    const size = ivf.readUInt32LE(at);
    frames.push(ivf.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}
const payloadOf = (f: Frame): Buffer => (f.payload.kind === 'opaque' ? Buffer.from(f.payload.bytes) : Buffer.alloc(0));

/** ffmpeg processes whose parent is `pid`. */
function ffmpegChildren(pid: number): number[] {
  const run = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' });
  return run.stdout.split('\n').filter((l) => l.includes('ffmpeg')).map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a two-party call with media through the real media service', () => {
  let fleet: TestFleet;
  let alice: Peer;
  let bob: Peer;
  let carol: Peer; // negotiated the media header
  let channel: number;
  const callId = `media-call-${Date.now()}`;

  beforeAll(async () => {
    fleet = await TestFleet.start({ env: { COMMUCAT_RATE_FRAME_RATE: '1000', COMMUCAT_RATE_FRAME_BURST: '1000' } });
    const connect = async (prefix: string, capabilities: string[]) => {
      const identity = newIdentity(prefix);
      return new Peer(await connectTo(fleet, identity, { capabilities }), identity);
    };
    alice = await connect('alice', ['noise', 'zstd', MEDIA_HEADER]);
    bob = await connect('bob', ['noise', 'zstd']); // the real client: bare packets
    carol = await connect('carol', ['noise', 'zstd', MEDIA_HEADER]);
    channel = freshChannel();
    const join = await alice.request(FrameType.Join, channel, { members: [alice.deviceId, bob.deviceId, carol.deviceId], relay: true });
    expect(join.answer.type).toBe(FrameType.Ack);
    const offer = await alice.request(FrameType.CallOffer, channel, { call_id: callId, from: alice.deviceId, to: [bob.deviceId, carol.deviceId], media: PROFILE });
    expect(control(offer.answer)).toEqual({ ack: offer.sequence, call_id: callId });
    // Bob takes the call's profile (VP8 only); Carol's own profile also decodes VP9.
    const answers: Array<[Peer, object]> = [[bob, {}], [carol, { media: CAROL_PROFILE }]];
    for (const [callee, extra] of answers) {
      await callee.nextMatching((f) => f.type === FrameType.CallOffer, 'the offer');
      const accepted = await callee.request(FrameType.CallAnswer, channel, { call_id: callId, accept: true, ...extra });
      expect(control(accepted.answer)).toMatchObject({ call_id: callId, accept: true });
    }
  });
  afterAll(async () => {
    for (const p of [alice, bob, carol]) await p?.close();
    await fleet?.stop();
  });

  /** Media frames `peer` receives on the channel, of one type, until `count` or the timeout. */
  async function receive(peer: Peer, type: FrameType, count: number, timeoutMs = 15_000): Promise<Frame[]> {
    const frames: Frame[] = [];
    const deadline = Date.now() + timeoutMs;
    while (frames.length < count && Date.now() < deadline) {
      frames.push(await peer.nextMatching((f) => f.type === type && f.channel === channel, `${FrameType[type]} #${frames.length + 1}`, Math.max(1, deadline - Date.now())));
    }
    return frames;
  }

  /** Frames of one type until `max` arrived or none came for a second. */
  async function receiveUntilQuiet(peer: Peer, type: FrameType, max: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    while (frames.length < max) {
      const next = await peer.nextMatching((f) => f.type === type && f.channel === channel, 'a frame', 1_000).catch(() => undefined);
      if (!next) break;
      frames.push(next);
    }
    return frames;
  }

  test("A's raw PCM reaches B as Opus packets that decode to 20 ms frames of the same energy", async () => {
    const sent = 25;
    for (let i = 0; i < sent; i++) {
      alice.sendBytesAs(FrameType.VoiceFrame, channel, withHeader(1, 1, sinePcm(i)));
      await new Promise((r) => setTimeout(r, 20));
    }
    const frames = await receive(bob, FrameType.VoiceFrame, sent);
    expect(frames).toHaveLength(sent);
    const decoder = new OpusEncoder(48_000, 1);
    const decoded = frames.map((f) => decoder.decode(payloadOf(f)));
    for (const pcm of decoded) expect(pcm.length).toBe(PCM_BYTES);
    // Opus needs a few frames to settle; the rest carry the sine's energy (RMS of 8000 / √2 ≈ 5657).
    const steady = rms(Buffer.concat(decoded.slice(5)));
    expect(steady).toBeGreaterThan(5657 * 0.7);
    expect(steady).toBeLessThan(5657 * 1.3);
    // Carol negotiated the header: the same packets, framed [1, encoded, opus].
    const framed = await receive(carol, FrameType.VoiceFrame, sent);
    expect(framed.map((f) => payloadOf(f).subarray(0, 3).toString('hex'))).toEqual(new Array(sent).fill('010000'));
    expect(framed.map((f) => payloadOf(f).subarray(3).toString('hex'))).toEqual(frames.map((f) => payloadOf(f).toString('hex')));
  });

  test("A's raw I420 reaches B as VP8 that ffmpeg decodes to frames of the right size, starting with a keyframe", async () => {
    const sent = 20;
    for (let i = 0; i < sent; i++) {
      alice.sendBytesAs(FrameType.VideoFrame, channel, withHeader(1, 0, i420Frame(i)));
      await new Promise((r) => setTimeout(r, 1000 / FPS));
    }
    // The encoder drops the oldest raw frames when it falls behind (counted in its metrics), so on
    // a loaded machine not every frame comes out; every packet that does must decode.
    const frames = await receiveUntilQuiet(bob, FrameType.VideoFrame, sent);
    expect(frames.length).toBeGreaterThanOrEqual(sent / 2);
    const packets = frames.map(payloadOf);
    expect(isVp8Keyframe(packets[0]!)).toBe(true);
    expect(decodeVp8(packets)).toBe(frames.length * I420_BYTES);
    // Carol got the same stream (framed [1, encoded, vp8], she negotiated the header).
    const atCarol = await receiveUntilQuiet(carol, FrameType.VideoFrame, sent);
    expect(atCarol.map((f) => payloadOf(f).toString('hex'))).toEqual(packets.map((p) => withHeader(0, 1, p).toString('hex')));
  });

  test('already encoded media passes through byte for byte (header stripped for the legacy client)', async () => {
    const packet = Buffer.from('fc' + 'ab'.repeat(40), 'hex');
    alice.sendBytesAs(FrameType.VoiceFrame, channel, withHeader(0, 0, packet));
    const [atBob] = await receive(bob, FrameType.VoiceFrame, 1);
    expect(payloadOf(atBob!).equals(packet)).toBe(true);
    const [atCarol] = await receive(carol, FrameType.VoiceFrame, 1);
    expect(payloadOf(atCarol!).equals(withHeader(0, 0, packet))).toBe(true);
  });

  test('per-subscriber transcoding: a VP9 stream reaches a VP9 receiver as it is and a VP8-only receiver as VP8', async () => {
    const frames = vp9Frames(15);
    for (const vp9 of frames) {
      alice.sendBytesAs(FrameType.VideoFrame, channel, withHeader(0, 2, vp9));
      await new Promise((r) => setTimeout(r, 1000 / FPS));
    }
    // Carol decodes VP9: she gets the very same frames, framed [1, encoded, vp9].
    const atCarol = await receive(carol, FrameType.VideoFrame, frames.length);
    expect(atCarol.map((f) => payloadOf(f).toString('hex'))).toEqual(frames.map((f) => withHeader(0, 2, f).toString('hex')));
    // Bob (the call's VP8-only profile) gets his own VP8 stream, re-encoded by the media service.
    const atBob = await receiveUntilQuiet(bob, FrameType.VideoFrame, frames.length);
    expect(atBob.length).toBeGreaterThanOrEqual(frames.length / 2);
    const packets = atBob.map(payloadOf);
    expect(isVp8Keyframe(packets[0]!)).toBe(true);
    expect(decodeVp8(packets)).toBe(packets.length * I420_BYTES);
  });

  test('bad media gets an Error with a stable reason and the media service keeps working', async () => {
    const refusals: Array<[string, Buffer, string]> = [
      ['a header of another version', Buffer.from([9, 1, 1, 0, 0]), 'bad_envelope'],
      ['an unknown codec byte', withHeader(1, 7, Buffer.alloc(10)), 'unknown_codec'],
      ['a payload shorter than the header', Buffer.from([1, 1]), 'bad_envelope'],
    ];
    for (const [what, payload, reason] of refusals) {
      alice.sendBytesAs(FrameType.VoiceFrame, channel, payload);
      const error = await alice.nextMatching((f) => f.type === FrameType.Error, what);
      expect([what, control(error).error, control(error).reason]).toEqual([what, 'invalid_media', reason]);
    }
    // Wrong-size PCM and I420 reach the media service, which refuses them (the sender is told).
    alice.sendBytesAs(FrameType.VoiceFrame, channel, withHeader(1, 1, Buffer.alloc(PCM_BYTES - 2)));
    const pcmError = await alice.nextMatching((f) => f.type === FrameType.Error && control(f).reason === 'wrong_frame_size', 'wrong-size PCM refusal');
    expect(control(pcmError)).toMatchObject({ error: 'invalid_media', call_id: callId });
    alice.sendBytesAs(FrameType.VideoFrame, channel, withHeader(1, 0, Buffer.alloc(I420_BYTES + 1)));
    await alice.nextMatching((f) => f.type === FrameType.Error && control(f).reason === 'wrong_frame_size', 'wrong-size I420 refusal');
    // Still encoding.
    alice.sendBytesAs(FrameType.VoiceFrame, channel, withHeader(1, 1, sinePcm(0)));
    expect(await receive(bob, FrameType.VoiceFrame, 1)).toHaveLength(1);
    const ready = await fetch(`http://127.0.0.1:${fleet.adminPortOf('media')}/readyz`);
    expect(ready.status).toBe(200);
  });

  test('a media replica killed mid-call: the stream resumes on another within 2 s, with a keyframe', async () => {
    await fleet.startExtra('media', 'media-2', { COMMUCAT_MEDIA_REPLICA_ID: `${fleet.natsNamespace}-media-2` });
    // Give the routers a heartbeat of the new replica; the call may now hash to either.
    await new Promise((r) => setTimeout(r, 1500));
    let stop = false;
    let n = 0;
    const sender = (async () => {
      while (!stop) {
        alice.sendBytesAs(FrameType.VideoFrame, channel, withHeader(1, 0, i420Frame(n++)));
        await new Promise((r) => setTimeout(r, 1000 / FPS));
      }
    })();
    try {
      // Whichever replica runs the call's encoder has an ffmpeg child.
      const owner = await eventually('the replica encoding the call', () =>
        ['media', 'media-2'].find((name) => ffmpegChildren(fleet.pidOf(name)!).length > 0));
      await receive(bob, FrameType.VideoFrame, 5);
      await fleet.stopProcess(owner, 'SIGKILL');
      const killedAt = Date.now();
      // Frames in flight when it died may be lost; the next packet must come within 2 s and be a keyframe.
      const next = await bob.nextMatching((f) => f.type === FrameType.VideoFrame && f.channel === channel && Date.now() - killedAt > 50 && isVp8Keyframe(payloadOf(f)), 'a keyframe after the kill', 5_000);
      const gapMs = Date.now() - killedAt;
      expect(next).toBeDefined();
      expect(gapMs).toBeLessThan(2_000);
    } finally {
      stop = true;
      await sender;
    }
  });

  test('ending the call closes every encoder and its ffmpeg process', async () => {
    const replicas = ['media', 'media-2'].filter((name) => fleet.pidOf(name) !== undefined);
    // Alice and Bob hang up; Carol alone is no call any more. (Media frames are acknowledged too:
    // wait for the Ack that names the call.)
    for (const peer of [alice, bob]) {
      peer.sendControl(FrameType.CallEnd, channel, { call_id: callId, reason: 'hangup' });
      const ack = await peer.nextMatching((f) => f.type === FrameType.Ack && control(f).call_id === callId, 'the CallEnd Ack');
      expect(control(ack)).toMatchObject({ call_id: callId, reason: 'hangup' });
    }
    await eventually('no ffmpeg left', () => (replicas.every((name) => ffmpegChildren(fleet.pidOf(name)!).length === 0) ? true : undefined), 5_000);
  });
});
