import type { Counter } from 'prom-client';

/**
 * `/api/security-stats` and the `security` block of /api/p2p/assist. Unlike the reference,
 * `noise_handshakes` counts real completed handshakes (from the gateway's metric), not assist calls.
 */
export class SecurityStats {
  private fecPackets = 0;
  private multipathSessions = 0;
  private pathsTotal = 0;

  constructor(private readonly handshakes: Counter<string>) {}

  recordAssist(paths: number, segments: number): void {
    this.multipathSessions += 1;
    this.pathsTotal += paths;
    this.fecPackets += segments;
  }

  async snapshot() {
    const metric = await this.handshakes.get();
    const noise = metric.values.filter((v) => v.labels.result === 'ok').reduce((sum, v) => sum + v.value, 0);
    return {
      noise_handshakes: noise,
      pq_handshakes: 0,
      fec_packets: this.fecPackets,
      multipath_sessions: this.multipathSessions,
      average_paths: this.multipathSessions === 0 ? 0 : this.pathsTotal / this.multipathSessions,
      censorship_deflections: 0,
    };
  }
}
