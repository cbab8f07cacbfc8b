import { Counter, Histogram, type Registry } from 'prom-client';

export interface RouterMetrics {
  /** Inbound frames by frame type label and result ('ok', 'ignored' or an Error code). */
  readonly frames: Counter<'type' | 'result'>;
  /** Time from taking a frame off the queue to publishing its reply. */
  readonly handleSeconds: Histogram<'type'>;
}

export function routerMetrics(registry: Registry): RouterMetrics {
  return {
    frames: new Counter({
      name: 'commucat_router_frames_total', help: 'Inbound frames handled by the router, by type and result',
      labelNames: ['type', 'result'], registers: [registry],
    }),
    handleSeconds: new Histogram({
      name: 'commucat_router_handle_seconds', help: 'Time to handle one inbound frame (membership, enqueue, fan-out, reply)',
      labelNames: ['type'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
