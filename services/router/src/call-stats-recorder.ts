import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import type { CallStore } from './call-store.js';
import { summariseCallStats } from './call-stats-summary.js';

/**
 * When a call is over, its CallStats are aggregated once (call-stats-summary.ts) into fleet-wide
 * histograms (one observation per call, direction and kind: no per-call label cardinality) and one
 * log line with the whole summary.
 */
export class CallStatsRecorder {
  private readonly bitrate: Histogram<'direction' | 'kind'>;
  private readonly packetLoss: Histogram<'direction' | 'kind'>;
  private readonly jitter: Histogram<'direction' | 'kind'>;

  constructor(private readonly store: Pick<CallStore, 'reports'>, registry: Registry, private readonly logger: Logger) {
    const labelNames = ['direction', 'kind'] as const;
    this.bitrate = new Histogram({
      name: 'commucat_call_bitrate_bits_per_second', help: 'Mean bitrate participants reported over a call (one observation per ended call)',
      labelNames, buckets: [8e3, 16e3, 32e3, 64e3, 128e3, 256e3, 512e3, 1e6, 2e6, 4e6], registers: [registry],
    });
    this.packetLoss = new Histogram({
      name: 'commucat_call_packet_loss_ratio', help: 'Worst packet loss a participant reported over a call (one observation per ended call)',
      labelNames, buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], registers: [registry],
    });
    this.jitter = new Histogram({
      name: 'commucat_call_jitter_seconds', help: 'Mean jitter participants reported over a call (one observation per ended call)',
      labelNames, buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], registers: [registry],
    });
  }

  async record(callId: string): Promise<void> {
    const summary = summariseCallStats(await this.store.reports(callId));
    for (const [key, stream] of summary) {
      const [direction, kind] = key.split(':') as [string, string];
      this.bitrate.observe({ direction, kind }, stream.meanBitrate);
      this.packetLoss.observe({ direction, kind }, stream.maxPacketLoss);
      // Clients report milliseconds; Prometheus durations are seconds.
      this.jitter.observe({ direction, kind }, stream.meanJitterMs / 1000);
    }
    this.logger.info({ call_id: callId, stats: Object.fromEntries(summary) }, 'call ended');
  }
}
