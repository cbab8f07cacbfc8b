import { parseJson, type JsonValue } from '@commucat/ccp1';

/** One kind (audio/video) and direction of a call, over the latest report of every participant. */
export interface StreamSummary {
  readonly reports: number;
  readonly meanBitrate: number;
  readonly maxPacketLoss: number;
  readonly meanJitterMs: number;
  /** Undefined when no report carried an rtt. */
  readonly maxRttMs: number | undefined;
}

/** key: `${direction}:${kind}`, e.g. "receive:audio". */
export type CallStatsSummary = Map<string, StreamSummary>;

const numberOf = (value: JsonValue | undefined): number | undefined =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;

/**
 * Aggregates the CallStats of one call (spec calls-media §2.8): for each direction and kind, the
 * mean bitrate and jitter and the worst packet loss and rtt over the participants' latest
 * reports. Reports that do not parse are skipped (they were validated when they arrived).
 */
export function summariseCallStats(reports: ReadonlyMap<string, ReadonlyMap<string, string>>): CallStatsSummary {
  const sums = new Map<string, { reports: number; bitrate: number; jitter: number; loss: number; rtt: number | undefined }>();
  for (const byKind of reports.values()) {
    for (const [reportKind, body] of byKind) {
      if (!reportKind.startsWith('stats:')) continue;
      const direction = reportKind.slice('stats:'.length);
      let stats: JsonValue;
      try {
        stats = parseJson(body);
      } catch {
        continue;
      }
      if (typeof stats !== 'object' || stats === null || Array.isArray(stats)) continue;
      for (const kind of ['audio', 'video'] as const) {
        const stream = stats[kind];
        if (typeof stream !== 'object' || stream === null || Array.isArray(stream)) continue;
        const key = `${direction}:${kind}`;
        const sum = sums.get(key) ?? { reports: 0, bitrate: 0, jitter: 0, loss: 0, rtt: undefined };
        sum.reports += 1;
        sum.bitrate += numberOf(stream.bitrate) ?? 0;
        sum.jitter += numberOf(stream.jitter_ms) ?? 0;
        sum.loss = Math.max(sum.loss, numberOf(stream.packet_loss) ?? 0);
        const rtt = numberOf(stream.rtt_ms);
        if (rtt !== undefined) sum.rtt = Math.max(sum.rtt ?? 0, rtt);
        sums.set(key, sum);
      }
    }
  }
  const summary: CallStatsSummary = new Map();
  for (const [key, sum] of [...sums].sort(([a], [b]) => a.localeCompare(b))) {
    summary.set(key, {
      reports: sum.reports, meanBitrate: sum.bitrate / sum.reports, maxPacketLoss: sum.loss,
      meanJitterMs: sum.jitter / sum.reports, maxRttMs: sum.rtt,
    });
  }
  return summary;
}
