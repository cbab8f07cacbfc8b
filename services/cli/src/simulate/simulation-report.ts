import { renderTable } from '../table';
import type { FrameLedger, KindTally, MediaKind } from './frame-ledger';
import { realTimeFactor } from './latency-stats';
import type { ReplicaUsage } from './replica-watch';

export interface KindReport {
  readonly streams: number;
  readonly frames_sent: number;
  readonly outputs: number;
  readonly dropped: number;
  readonly refused: number;
  readonly keyframes: number;
  readonly latency_ms: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  /** Media seconds encoded per wall second, all streams of the kind together. */
  readonly realtime_factor: number;
  /** Mean encoded bitrate of one stream, kbit/s. */
  readonly kbps_per_stream: number;
}

export interface ReplicaReport {
  readonly replica_id: string;
  readonly calls: number;
  readonly cpu_percent: number;
  readonly cpu_seconds: number;
  readonly dropped_frames: number;
  readonly max_active_streams: number;
  readonly window_ms: number;
}

export interface SimulationReport {
  readonly seconds: number;
  readonly elapsed_ms: number;
  readonly video_shape: { readonly width: number; readonly height: number; readonly fps: number };
  readonly audio: KindReport;
  readonly video: KindReport;
  readonly refused_codes: Record<string, number>;
  readonly replicas: readonly ReplicaReport[];
  /** Every replica's CPU during the run, % of one core. */
  readonly media_cpu_percent: number;
  /** This CLI's own CPU (frame generation, NATS), % of one core: it shares the machine in a local run. */
  readonly cli_cpu_percent: number;
}

export const FRAME_MS: Record<MediaKind, (fps: number) => number> = { audio: () => 20, video: (fps) => 1000 / fps };

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function kindReport(tally: KindTally, frameMs: number, elapsedMs: number): KindReport {
  const mediaSeconds = (tally.outputs * frameMs) / 1000;
  return {
    streams: tally.streams,
    frames_sent: tally.sent,
    outputs: tally.outputs,
    dropped: tally.dropped,
    refused: tally.refused,
    keyframes: tally.keyframes,
    latency_ms: tally.latency === undefined
      ? null
      : { p50: round(tally.latency.p50Ms, 2), p99: round(tally.latency.p99Ms, 2), max: round(tally.latency.maxMs, 2) },
    realtime_factor: round(realTimeFactor(tally.outputs, frameMs, elapsedMs), 2),
    // Media seconds add up over the streams, so bits per media second is already one stream's rate.
    kbps_per_stream: mediaSeconds === 0 ? 0 : round((tally.outputBytes * 8) / mediaSeconds / 1000, 1),
  };
}

export interface ReportInputs {
  readonly seconds: number;
  readonly elapsedMs: number;
  readonly video: { readonly width: number; readonly height: number; readonly fps: number };
  readonly ledger: FrameLedger;
  /** Calls per replica, for the replicas the run used. */
  readonly callsPerReplica: ReadonlyMap<string, number>;
  readonly usage: readonly ReplicaUsage[];
  readonly cliCpuPercent: number;
}

export function buildReport(inputs: ReportInputs): SimulationReport {
  const replicas = inputs.usage.map((u) => ({
    replica_id: u.replicaId,
    calls: inputs.callsPerReplica.get(u.replicaId) ?? 0,
    cpu_percent: round(u.cpuPercent, 1),
    cpu_seconds: round(u.cpuSeconds, 3),
    dropped_frames: u.droppedFrames,
    max_active_streams: u.maxActiveStreams,
    window_ms: u.windowMs,
  }));
  return {
    seconds: inputs.seconds,
    elapsed_ms: Math.round(inputs.elapsedMs),
    video_shape: { ...inputs.video },
    audio: kindReport(inputs.ledger.tally('audio'), FRAME_MS.audio(inputs.video.fps), inputs.elapsedMs),
    video: kindReport(inputs.ledger.tally('video'), FRAME_MS.video(inputs.video.fps), inputs.elapsedMs),
    refused_codes: inputs.ledger.refusals(),
    replicas,
    media_cpu_percent: round(inputs.usage.reduce((sum, u) => sum + u.cpuPercent, 0), 1),
    cli_cpu_percent: round(inputs.cliCpuPercent, 1),
  };
}

/** A run failed when a kind it simulated got nothing back, or the service refused frames. */
export function reportFailed(report: SimulationReport): boolean {
  return [report.audio, report.video].some((k) => (k.streams > 0 && k.outputs === 0) || k.refused > 0);
}

const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(2)} ms`);

export function renderReport(report: SimulationReport): string {
  const kinds = (['audio', 'video'] as const).filter((kind) => report[kind].streams > 0);
  const kindTable = renderTable(
    ['kind', 'streams', 'sent', 'encoded', 'dropped', 'refused', 'p50', 'p99', 'max', 'realtime', 'kbps/stream'],
    kinds.map((kind) => {
      const k = report[kind];
      return [
        kind, String(k.streams), String(k.frames_sent), String(k.outputs), String(k.dropped), String(k.refused),
        ms(k.latency_ms?.p50), ms(k.latency_ms?.p99), ms(k.latency_ms?.max), `${k.realtime_factor.toFixed(2)}x`, k.kbps_per_stream.toFixed(1),
      ];
    }),
  );
  const replicaTable = renderTable(
    ['replica', 'calls', 'cpu', 'cpu_s', 'dropped', 'max_streams'],
    report.replicas.map((r) => [r.replica_id, String(r.calls), `${r.cpu_percent.toFixed(1)} %`, r.cpu_seconds.toFixed(3), String(r.dropped_frames), String(r.max_active_streams)]),
  );
  const refusals = Object.entries(report.refused_codes).map(([code, count]) => `${code}×${count}`).join(', ');
  const { width, height, fps } = report.video_shape;
  const summary = [
    `elapsed ${(report.elapsed_ms / 1000).toFixed(2)} s for ${report.seconds} s of media per stream` + (report.video.streams > 0 ? ` (video ${width}x${height}@${fps})` : ''),
    `media cpu ${report.media_cpu_percent.toFixed(1)} % of one core; this cli ${report.cli_cpu_percent.toFixed(1)} %`,
    ...(refusals !== '' ? [`refused: ${refusals}`] : []),
  ];
  return `${kindTable}\n${replicaTable}\n${summary.join('\n')}\n`;
}
