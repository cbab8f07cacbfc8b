import { Counter, Histogram, type Registry } from '@commucat/telemetry';

export interface GrpcServerMetrics {
  readonly duration: Histogram<'method' | 'code'>;
  readonly handled: Counter<'method' | 'code'>;
}

const DURATION = 'commucat_grpc_server_duration_seconds';
const HANDLED = 'commucat_grpc_server_handled_total';

/** Registers the server metrics once per registry (several runtimes may share a telemetry). */
export function grpcServerMetrics(registry: Registry): GrpcServerMetrics {
  const duration =
    (registry.getSingleMetric(DURATION) as Histogram<'method' | 'code'> | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'Time to handle a gRPC call on the server, by method and status code',
      labelNames: ['method', 'code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  const handled =
    (registry.getSingleMetric(HANDLED) as Counter<'method' | 'code'> | undefined) ??
    new Counter({
      name: HANDLED,
      help: 'gRPC calls completed on the server, by method and status code',
      labelNames: ['method', 'code'],
      registers: [registry],
    });
  return { duration, handled };
}
