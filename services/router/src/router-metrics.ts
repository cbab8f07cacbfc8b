import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface RouterMetrics {
  /** Inbound frames by frame type label and result ('ok', 'ignored' or an Error code). */
  readonly frames: Counter<'type' | 'result'>;
  /** Time from taking a frame off the queue to publishing its reply. */
  readonly handleSeconds: Histogram<'type'>;
  /** Calls offered through this router process (commucat_calls_total, as the reference names it). */
  readonly callsTotal: Counter;
}

export function routerMetrics(registry: Registry): RouterMetrics {
  return {
    frames: new Counter({
      name: 'commucat_router_frames_total', help: 'Inbound frames handled by the router, by type and result',
      labelNames: ['type', 'result'], registers: [registry],
    }),
    handleSeconds: new Histogram({
      name: 'commucat_router_handle_duration_seconds', help: 'Time to handle one inbound frame (membership, enqueue, fan-out, reply)',
      labelNames: ['type'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    callsTotal: new Counter({
      name: 'commucat_calls_total', help: 'Calls offered (CallOffer frames that created a call) through this router process',
      registers: [registry],
    }),
  };
}

/**
 * commucat_calls_active: calls not ended, read from Postgres at scrape time. Every replica reports
 * the same fleet-wide number (call state is shared), so take one replica's value, never the sum.
 */
export function registerActiveCallsGauge(registry: Registry, countActive: () => Promise<number>): Gauge {
  return new Gauge({
    name: 'commucat_calls_active', help: 'Calls in progress (ringing or connected), fleet-wide',
    registers: [registry],
    async collect() {
      // A failing query must not fail the whole scrape: the gauge keeps its last value.
      try {
        this.set(await countActive());
      } catch {
        // Postgres unavailable; the readiness check reports it.
      }
    },
  });
}
