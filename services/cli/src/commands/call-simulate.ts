import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Bus, Subjects } from '@commucat/bus';
import type { CommucatConfig } from '@commucat/config';
import { CliError, ExitCode } from '../errors';
import type { Output } from '../output';
import { connectFleetBus } from '../simulate/fleet-bus';
import { FrameLedger, type MediaKind } from '../simulate/frame-ledger';
import { framesDue, framesInRun, nextDueMs } from '../simulate/frame-schedule';
import { pickReplica } from '@commucat/media-format';
import { ReplicaWatch } from '../simulate/replica-watch';
import { simulationProfile } from '../simulate/simulation-profile';
import { buildReport, FRAME_MS, renderReport, reportFailed, type SimulationReport } from '../simulate/simulation-report';
import { gradientI420Frame, sinePcmFrame } from '../simulate/synthetic-media';

export interface CallSimulateOptions {
  readonly audioStreams: number;
  readonly videoStreams: number;
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** Waits of the run; the CLI uses the defaults, a caller of simulateCalls may pick others. */
export interface CallSimulateTimings {
  /** How long to wait for the first media heartbeat (default 5000). */
  readonly heartbeatWaitMs?: number;
  /** After the last frame, how long outputs may still come in before the rest count as dropped (default 2000). */
  readonly drainMs?: number;
}

/** The devices named in every simulated MediaInput; nobody is connected as them. */
const RECIPIENT = 'call-simulate';
/** Once one replica is heard, listen this long for the others (they beat every ~250 ms). */
const LISTEN_FOR_OTHERS_MS = 350;

interface SimulatedCall {
  readonly callId: string;
  readonly channelId: number;
  readonly kind: MediaKind;
  readonly replicaId: string;
}

/** Wall clock in microseconds with sub-millisecond resolution (one clock for stamps and arrivals). */
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * Drives synthetic raw streams (one call each) through the media replicas over NATS, the way a
 * router does, and reports per-frame latency, real-time factor, drops and the replicas' CPU.
 */
export async function callSimulate(
  config: CommucatConfig,
  output: Output,
  options: CallSimulateOptions,
  timings: CallSimulateTimings = {},
): Promise<ExitCode> {
  const report = await simulateCalls(config, output, options, timings);
  output.result(report, renderReport(report));
  return reportFailed(report) ? ExitCode.failed : ExitCode.ok;
}

export async function simulateCalls(
  config: CommucatConfig,
  output: Output,
  options: CallSimulateOptions,
  timings: CallSimulateTimings = {},
): Promise<SimulationReport> {
  const heartbeatWaitMs = timings.heartbeatWaitMs ?? 5000;
  const bus = await connectFleetBus(config, 'commucat-cli-call-simulate', 5000);
  try {
    const watch = new ReplicaWatch();
    bus.subscribe(Subjects.mediaHeartbeat, {}, (hb) => watch.heard(hb));
    const replicas = await discoverReplicas(bus, watch, heartbeatWaitMs);
    output.progress(`media replicas: ${replicas.join(', ')}`);

    const calls = planCalls(options, replicas);
    const ledger = new FrameLedger();
    for (const call of calls) ledger.addCall(call.callId, call.kind);
    let lastOutputUs = 0;
    bus.subscribe(Subjects.mediaOutput, {}, (out) => {
      const arrivedUs = nowUs();
      if (ledger.recordOutput(out.callId, out.receivedAtUs, arrivedUs, out.packet.length, out.keyframe)) lastOutputUs = arrivedUs;
    });
    bus.subscribe(Subjects.mediaRefused, {}, (refused) => {
      ledger.recordRefused(refused.callId, refused.code);
    });
    // The server must know the subscriptions before the first frame goes out.
    await bus.ready(2000);

    output.progress(
      `simulating ${options.audioStreams} audio + ${options.videoStreams} video stream(s) for ${options.seconds} s` +
        (options.videoStreams > 0 ? ` (video ${options.width}x${options.height}@${options.fps})` : '') + ' …',
    );
    watch.markBaseline();
    const cpuBefore = process.cpuUsage();
    const startUs = nowUs();
    await sendFrames(bus, ledger, calls, options, startUs);
    const sentAllUs = nowUs();
    await waitForOutputs(ledger, timings.drainMs ?? 2000);
    ledger.close();
    // The run lasts until its last output came back; a drain that waited in vain does not count.
    const endUs = Math.max(sentAllUs, lastOutputUs);
    const cliCpu = process.cpuUsage(cpuBefore);
    const wallUs = nowUs() - startUs;

    for (const call of calls) bus.publish(Subjects.mediaCallEnded, {}, { callId: call.callId });
    // A heartbeat stamped after the run closes each replica's CPU window.
    const used = [...new Set(calls.map((c) => c.replicaId))].sort();
    await watch.heartbeatsSince(used, Math.floor(endUs / 1000), 1000);

    const callsPerReplica = new Map<string, number>();
    for (const call of calls) callsPerReplica.set(call.replicaId, (callsPerReplica.get(call.replicaId) ?? 0) + 1);
    return buildReport({
      seconds: options.seconds,
      elapsedMs: (endUs - startUs) / 1000,
      video: { width: options.width, height: options.height, fps: options.fps },
      ledger,
      callsPerReplica,
      usage: used.flatMap((id) => watch.usage(id, Math.floor(endUs / 1000)) ?? []),
      cliCpuPercent: ((cliCpu.user + cliCpu.system) / wallUs) * 100,
    });
  } finally {
    await bus.drain().catch(() => bus.close());
  }
}

async function discoverReplicas(bus: Bus, watch: ReplicaWatch, waitMs: number): Promise<string[]> {
  await bus.ready(2000).catch((err: unknown) => {
    throw new CliError('UNREACHABLE', `NATS does not answer: ${(err as Error).message}`, 'is the fleet up? `make up`', { cause: err });
  });
  if (!(await watch.nextHeartbeat(waitMs))) {
    throw new CliError(
      'UNREACHABLE',
      `no media replica heartbeat on ${Subjects.mediaHeartbeat.pattern} within ${waitMs} ms`,
      'start the media service: `make up` (or node services/media/dist/main.js with COMMUCAT_MEDIA_REPLICA_ID); check fleet.nats_url and fleet.nats_namespace',
    );
  }
  await sleep(LISTEN_FOR_OTHERS_MS);
  return watch.alive();
}

/** One call per stream, each on the replica rendezvous hashing gives it (as a router would). */
function planCalls(options: CallSimulateOptions, replicas: readonly string[]): SimulatedCall[] {
  // A random run id keeps two simulations (or real calls) on one fleet apart.
  const run = randomBytes(4).toString('hex');
  const calls: SimulatedCall[] = [];
  const add = (kind: MediaKind, count: number) => {
    for (let i = 0; i < count; i++) {
      const callId = `sim-${run}-${kind}-${i}`;
      calls.push({ callId, channelId: calls.length + 1, kind, replicaId: pickReplica(callId, replicas) });
    }
  };
  add('audio', options.audioStreams);
  add('video', options.videoStreams);
  return calls;
}

/** Paces every stream in real time: audio every 20 ms, video every 1/fps s, one shared frame per tick. */
async function sendFrames(bus: Bus, ledger: FrameLedger, calls: readonly SimulatedCall[], options: CallSimulateOptions, startUs: number): Promise<void> {
  const profileJson = JSON.stringify(simulationProfile(options));
  const streams = (['audio', 'video'] as const).map((kind) => {
    const periodMs = FRAME_MS[kind](options.fps);
    const ofKind = calls.filter((c) => c.kind === kind);
    return { kind, periodMs, calls: ofKind, total: ofKind.length === 0 ? 0 : framesInRun(options.seconds, periodMs), sent: 0 };
  });
  const frame = (kind: MediaKind, index: number) => (kind === 'audio' ? sinePcmFrame(index) : gradientI420Frame(index, options.width, options.height));

  for (;;) {
    const elapsedMs = (nowUs() - startUs) / 1000;
    for (const stream of streams) {
      const due = framesDue(elapsedMs, stream.periodMs, stream.total);
      for (; stream.sent < due; stream.sent++) {
        const body = frame(stream.kind, stream.sent);
        for (const call of stream.calls) {
          const receivedAtUs = ledger.stampFrame(call.callId, nowUs());
          publishInput(bus, call, body, profileJson, receivedAtUs);
        }
      }
    }
    const nextMs = Math.min(...streams.map((s) => nextDueMs(s.sent, s.periodMs, s.total)));
    if (nextMs === Infinity) return;
    await sleep(Math.max(0, nextMs - (nowUs() - startUs) / 1000));
  }
}

function publishInput(bus: Bus, call: SimulatedCall, body: Buffer, profileJson: string, receivedAtUs: number): void {
  try {
    bus.publish(Subjects.mediaInput, { replicaId: call.replicaId }, {
      callId: call.callId,
      channelId: call.channelId,
      senderDeviceId: `${RECIPIENT}-sender`,
      kind: call.kind,
      body,
      profileJson,
      recipientDeviceIds: [RECIPIENT],
      receivedAtUs,
      // Raw input at the profile's size, one stream per call.
      sourceCodec: '',
      targetWidth: 0,
      targetHeight: 0,
      streamTag: '',
    });
  } catch (err) {
    throw new CliError('INTERNAL', `cannot publish a ${call.kind} frame (${body.length} bytes): ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Resolves when every frame got its output, or after `drainMs`. */
async function waitForOutputs(ledger: FrameLedger, drainMs: number): Promise<void> {
  const deadline = Date.now() + drainMs;
  while (ledger.outstanding > 0 && Date.now() < deadline) await sleep(10);
}
