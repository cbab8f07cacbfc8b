// Media transcoding capacity on this machine: how many raw-PCM→Opus streams one core carries with a
// p99 added latency under 1 ms, how many 360p30 I420→VP8 streams one core carries (ffmpeg CPU
// included), and the added latency of a VP8 frame. Prints one JSON line per figure.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { OpusStreamEncoder, Vp8StreamEncoder, i420FrameBytes, type EncodedVideoFrame } from '@commucat/media';
import { reporter } from './support/output';

const report = reporter('media');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---------------------------------------------------------------------------------------------
// Opus: N streams, each delivering one 20 ms frame every 20 ms, their phases spread evenly over
// the period (real senders are not synchronised), all encoded by one thread in arrival order.
// Added latency = packet ready − frame arrival, so it includes waiting behind other streams.
//
// "Per core" is measured on a dedicated core: every encode really runs, its CPU time (getrusage,
// µs-precise, immune to the scheduler pre-empting us on this shared VM) is its service time, and
// the arrivals are replayed against those service times. A wall-clock real-time run at the found N
// is reported next to it, which on a busy machine also shows other tenants' interference.
// ---------------------------------------------------------------------------------------------

const OPUS_PERIOD_MS = 20;
const OPUS_RUN_FRAMES = 50; // one second of audio per stream
const OPUS_P99_BUDGET_MS = 1;

/** 50 frames of speech-like test audio: a gliding tone, a harmonic and noise, 48 kHz mono s16le. */
function speechLikeFrames(): Buffer[] {
  let seed = 12345;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  return Array.from({ length: 50 }, (_, f) => {
    const frame = Buffer.alloc(1920);
    for (let i = 0; i < 960; i++) {
      const t = (f * 960 + i) / 48_000;
      const v = 0.3 * Math.sin(2 * Math.PI * (180 + 20 * Math.sin(2 * Math.PI * 3 * t)) * t) + 0.15 * Math.sin(2 * Math.PI * 720 * t) + 0.1 * noise();
      frame.writeInt16LE(Math.round(v * 20_000), i * 2);
    }
    return frame;
  });
}

interface OpusRun {
  p99Ms: number;
  meanEncodeMs: number;
}

/** Encoders that have already run for a few frames: a call's stream lives for minutes, and a fresh
 * encoder's first frames cost several times more, which would dominate a one-second p99. */
function openEncoders(streams: number, complexity: number, frames: Buffer[]): OpusStreamEncoder[] {
  return Array.from({ length: streams }, (_, s) => {
    const encoder = new OpusStreamEncoder({ sampleRate: 48_000, channels: 1, bitrate: 16_000, fec: true, dtx: true, complexity });
    for (let f = 0; f < 5; f++) encoder.encode(frames[(s + f) % frames.length]!);
    return encoder;
  });
}

/** Dedicated-core model: real encodes, CPU time as service time, arrivals replayed in virtual time. */
function runOpusOnDedicatedCore(streams: number, complexity: number, frames: Buffer[]): OpusRun {
  const encoders = openEncoders(streams, complexity, frames);
  const spacing = OPUS_PERIOD_MS / streams;
  const slots = streams * OPUS_RUN_FRAMES;
  const latencies: number[] = [];
  let busyUntil = 0;
  let cpuTotal = 0;
  for (let slot = 0; slot < slots; slot++) {
    const stream = slot % streams;
    const before = process.cpuUsage();
    encoders[stream]!.encode(frames[(Math.floor(slot / streams) + stream) % frames.length]!);
    const used = process.cpuUsage(before);
    const serviceMs = (used.user + used.system) / 1000;
    cpuTotal += serviceMs;
    const arrival = slot * spacing;
    busyUntil = Math.max(arrival, busyUntil) + serviceMs;
    latencies.push(busyUntil - arrival);
  }
  for (const encoder of encoders) encoder.close();
  latencies.sort((a, b) => a - b);
  return { p99Ms: percentile(latencies, 99), meanEncodeMs: cpuTotal / slots };
}

/** The same schedule in wall-clock real time (spinning until each frame's arrival). */
function runOpusInRealTime(streams: number, complexity: number, frames: Buffer[]): OpusRun {
  const encoders = openEncoders(streams, complexity, frames);
  const spacing = OPUS_PERIOD_MS / streams;
  const slots = streams * OPUS_RUN_FRAMES;
  const latencies: number[] = [];
  let encodeTotal = 0;
  const start = performance.now() + 5;
  for (let slot = 0; slot < slots; slot++) {
    const arrival = start + slot * spacing;
    while (performance.now() < arrival) { /* the frame has not arrived yet */ }
    const stream = slot % streams;
    const before = performance.now();
    encoders[stream]!.encode(frames[(Math.floor(slot / streams) + stream) % frames.length]!);
    const done = performance.now();
    encodeTotal += done - before;
    latencies.push(done - arrival);
  }
  for (const encoder of encoders) encoder.close();
  latencies.sort((a, b) => a - b);
  return { p99Ms: percentile(latencies, 99), meanEncodeMs: encodeTotal / slots };
}

/** Largest N whose p99 stays under the budget: steps of 20 up, then bisect. */
function opusStreamsPerCore(complexity: number, frames: Buffer[]): { streams: number; run: OpusRun | undefined } {
  // The median of three runs: one run's p99 can be set by a single page fault or GC pause that
  // has nothing to do with the encoder, which made the search stop early at random.
  const passes = (n: number): OpusRun | undefined => {
    const runs = [0, 1, 2].map(() => runOpusOnDedicatedCore(n, complexity, frames)).sort((a, b) => a.p99Ms - b.p99Ms);
    const median = runs[1]!;
    return median.p99Ms < OPUS_P99_BUDGET_MS ? median : undefined;
  };
  runOpusOnDedicatedCore(10, complexity, frames); // warm-up
  let good = 0;
  let goodRun: OpusRun | undefined;
  let bad = 0;
  for (let n = 20; n <= 400; n += 20) {
    const run = passes(n);
    if (run === undefined) { bad = n; break; }
    good = n;
    goodRun = run;
  }
  if (bad === 0) return { streams: good, run: goodRun };
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    const run = passes(mid);
    if (run === undefined) bad = mid;
    else { good = mid; goodRun = run; }
  }
  return { streams: good, run: goodRun };
}

// ---------------------------------------------------------------------------------------------
// VP8: N encoders fed 640×360 testsrc2 frames at 30 fps in real time for a few seconds. CPU per
// stream = (our process + every ffmpeg child) CPU seconds / stream-seconds; latency per frame =
// push() → VP8 frame parsed (queue wait included), measured after a warm-up second.
// ---------------------------------------------------------------------------------------------

const W = 640;
const H = 360;
const FPS = 30;
const CLOCK_TICKS = 100; // USER_HZ on Linux

function testsrcFrames(count: number): Buffer[] {
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`,
    '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`ffmpeg testsrc2 failed: ${result.stderr.toString()}`);
  const size = i420FrameBytes(W, H);
  return Array.from({ length: count }, (_, i) => result.stdout.subarray(i * size, (i + 1) * size));
}

function childCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch { /* exited */ }
  }
  return ticks / CLOCK_TICKS;
}

interface VideoRun {
  cpuPerStream: number;
  /** Share of the CPU spent in our own process (pipes, IVF parsing, frame pushing). */
  ownCpuShare: number;
  latencies: number[];
  framesIn: number;
  framesOut: number;
  dropped: number;
}

async function runVp8Streams(streams: number, seconds: number, frames: Buffer[], cpuUsed: number): Promise<VideoRun> {
  const latencies: number[] = [];
  let measuring = false;
  const encoders = Array.from({ length: streams }, () => new Vp8StreamEncoder({
    width: W, height: H, frameRate: FPS, bitrate: 750_000, warmStandby: false, cpuUsed,
    onFrame: (frame: EncodedVideoFrame) => { if (measuring) latencies.push(frame.latencyMs); },
  }));
  const interval = 1000 / FPS;
  const warmupFrames = FPS; // one second
  const totalFrames = warmupFrames + seconds * FPS;
  let cpuStart = 0;
  let ownStart = process.cpuUsage();
  const begin = performance.now() + 300;
  await Promise.all(encoders.map((encoder, s) => new Promise<void>((resolve) => {
    let n = 0;
    const phase = (s * interval) / streams;
    const tick = (): void => {
      if (n === warmupFrames && s === 0) {
        measuring = true;
        cpuStart = childCpuSeconds(encoders.flatMap((e) => e.pids));
        ownStart = process.cpuUsage();
      }
      encoder.push(frames[(n + s * 7) % frames.length]!);
      n++;
      if (n >= totalFrames) { resolve(); return; }
      setTimeout(tick, Math.max(0, begin + phase + n * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, begin + phase - performance.now()));
  })));
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the last frames come out
  measuring = false;
  const childCpu = childCpuSeconds(encoders.flatMap((e) => e.pids)) - cpuStart;
  const own = process.cpuUsage(ownStart);
  const stats = encoders.map((e) => e.stats);
  await Promise.all(encoders.map((e) => e.close()));
  const ownCpu = (own.user + own.system) / 1e6;
  const cpu = childCpu + ownCpu;
  return {
    cpuPerStream: cpu / (streams * seconds),
    ownCpuShare: ownCpu / cpu,
    latencies: latencies.sort((a, b) => a - b),
    framesIn: stats.reduce((s, x) => s + x.framesIn, 0),
    framesOut: stats.reduce((s, x) => s + x.framesOut, 0),
    dropped: stats.reduce((s, x) => s + x.droppedQueueFull, 0),
  };
}

async function main(): Promise<void> {
  const audio = speechLikeFrames();
  // 1 is the service default (media.opus_complexity); 9 is the reference's, 5 a middle ground.
  for (const complexity of [1, 5, 9]) {
    const { streams, run } = opusStreamsPerCore(complexity, audio);
    report(`opus_streams_per_core_p99_lt_1ms_c${complexity}`, streams, 'streams');
    report(`opus_encode_cpu_mean_c${complexity}`, (run?.meanEncodeMs ?? Number.NaN) * 1000, 'us');
    report(`opus_added_latency_p99_at_${streams}_c${complexity}`, run?.p99Ms ?? Number.NaN, 'ms');
    if (streams > 0) report(`opus_added_latency_p99_wallclock_at_${streams}_c${complexity}`, runOpusInRealTime(streams, complexity, audio).p99Ms, 'ms');
  }

  const frames = testsrcFrames(60);
  // cpu-used 15 is the service default (media.vp8_cpu_used): the fastest setting before quality
  // drops visibly (on testsrc2 at 750 kbit/s: PSNR 40.0 dB at 8, 39.6 dB at 15, 37.9 dB at 16);
  // 8 is libvpx's realtime default, for comparison.
  for (const cpuUsed of [15, 8]) {
    const single = await runVp8Streams(1, 5, frames, cpuUsed);
    report(`vp8_360p30_added_latency_p50_1stream_cpu${cpuUsed}`, percentile(single.latencies, 50), 'ms');
    report(`vp8_360p30_added_latency_p99_1stream_cpu${cpuUsed}`, percentile(single.latencies, 99), 'ms');
    const loadStreams = 4;
    const load = await runVp8Streams(loadStreams, 4, frames, cpuUsed);
    report(`vp8_360p30_streams_per_core_cpu${cpuUsed}`, 1 / load.cpuPerStream, 'streams');
    report(`vp8_360p30_cpu_per_stream_cpu${cpuUsed}`, load.cpuPerStream * 100, '%core');
    report(`vp8_360p30_own_process_cpu_share_cpu${cpuUsed}`, load.ownCpuShare * 100, '%');
    report(`vp8_360p30_added_latency_p99_${loadStreams}streams_cpu${cpuUsed}`, percentile(load.latencies, 99), 'ms');
    report(`vp8_360p30_dropped_${loadStreams}streams_cpu${cpuUsed}`, load.dropped, 'frames');
  }
}

void main();
