// Shared by the media tests (not a test file itself): NATS address, unique names, polling, and
// real ffmpeg to make encoded sources and to decode what the service produced.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { connectBus, Subjects, type Bus } from '@commucat/bus';
import type { MediaInput, MediaOutput, MediaRefused, MediaReplicaHeartbeat } from '@commucat/contracts';
import { IvfReader, type IvfFrame } from '../src/ivf-reader';
import { mediaMetrics } from '../src/media-metrics';
import { MediaWorker, type MediaWorkerOptions } from '../src/media-worker';
import { ivfFile } from '../src/ivf-writer';

export function natsUrl(): string {
  const url = process.env.COMMUCAT_NATS_URL;
  if (!url) throw new Error('COMMUCAT_NATS_URL is not set — start the stack: bash scripts/stack.sh start; eval "$(bash scripts/stack.sh env)"');
  return url;
}

export const token = (prefix: string): string => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function eventually<T>(probe: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An encoded test picture (ffmpeg's testsrc2), split into its bare frames. */
export function encodeTestSource(codec: 'vp8' | 'vp9', options: { width: number; height: number; frames: number; keyframeInterval?: number }): IvfFrame[] {
  const ivf = execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=${options.width}x${options.height}:rate=15`, '-frames:v', String(options.frames),
    '-c:v', codec === 'vp8' ? 'libvpx' : 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8',
    ...(options.keyframeInterval !== undefined ? ['-g', String(options.keyframeInterval)] : []),
    '-f', 'ivf', '-',
  ], { maxBuffer: 64 * 1024 * 1024 });
  return new IvfReader().push(ivf);
}

/** Decodes bare VP8 packets (wrapped in IVF) with ffmpeg to raw I420, at the size they carry. */
export function decodeVp8Packets(packets: readonly Uint8Array[], width: number, height: number): Promise<Buffer> {
  const file = ivfFile({ fourcc: 'VP80', width, height, timebaseRate: 30, timebaseScale: 1 }, packets);
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'ivf', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1']);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg decode failed (${code}): ${stderr}`))));
    child.stdin.end(file);
  });
}

/**
 * A router's view of media replicas on the real NATS (one fresh namespace per rig): it sends
 * MediaInput, collects MediaOutput / MediaRefused / heartbeats, and starts workers on a second
 * connection.
 */
export class MediaTestRig {
  readonly outputs: MediaOutput[] = [];
  readonly refusals: MediaRefused[] = [];
  readonly heartbeats: MediaReplicaHeartbeat[] = [];
  private readonly workers: MediaWorker[] = [];

  private constructor(private readonly routerBus: Bus, private readonly workerBus: Bus) {}

  static async connect(): Promise<MediaTestRig> {
    const namespace = token('media_test');
    const rig = new MediaTestRig(
      await connectBus({ servers: natsUrl(), name: 'media-test-router', namespace }),
      await connectBus({ servers: natsUrl(), name: 'media-test-worker', namespace }),
    );
    rig.routerBus.subscribe(Subjects.mediaOutput, {}, (m) => { rig.outputs.push(m); });
    rig.routerBus.subscribe(Subjects.mediaRefused, {}, (m) => { rig.refusals.push(m); });
    rig.routerBus.subscribe(Subjects.mediaHeartbeat, {}, (m) => { rig.heartbeats.push(m); });
    await rig.routerBus.ready();
    return rig;
  }

  async startWorker(replicaId: string, options: Partial<MediaWorkerOptions> = {}): Promise<MediaWorker> {
    const worker = new MediaWorker({ bus: this.workerBus, replicaId, logger: silent, metrics: mediaMetrics(new Registry()), ...options });
    this.workers.push(worker);
    await worker.start();
    return worker;
  }

  /** What a router sends: one frame for `replicaId` (raw unless `sourceCodec` says otherwise). */
  send(replicaId: string, frame: Partial<MediaInput> & Pick<MediaInput, 'callId' | 'kind' | 'body' | 'profileJson'>): MediaInput {
    const input: MediaInput = {
      channelId: 7, senderDeviceId: 'dev-a', recipientDeviceIds: ['dev-b', 'dev-c'], receivedAtUs: Date.now() * 1000,
      sourceCodec: '', targetWidth: 0, targetHeight: 0, streamTag: '', ...frame,
    };
    this.routerBus.publish(Subjects.mediaInput, { replicaId }, input);
    return input;
  }

  endCall(callId: string): void {
    this.routerBus.publish(Subjects.mediaCallEnded, {}, { callId });
  }

  requestKeyframe(callId: string): void {
    this.routerBus.publish(Subjects.mediaKeyframeRequest, {}, { callId });
  }

  outputsOf(callId: string, streamTag?: string): MediaOutput[] {
    return this.outputs.filter((o) => o.callId === callId && (streamTag === undefined || o.streamTag === streamTag));
  }

  refusalsOf(callId: string): MediaRefused[] {
    return this.refusals.filter((r) => r.callId === callId);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await Promise.all([this.routerBus.close(), this.workerBus.close()]);
  }
}

const silent = pino({ level: 'silent' });
