import { Counter, Histogram, type Registry } from '@commucat/telemetry';

export interface GrpcClientMetrics {
  readonly duration: Histogram<'method' | 'code'>;
  readonly handled: Counter<'method' | 'code'>;
}

const DURATION = 'commucat_grpc_client_duration_seconds';
const HANDLED = 'commucat_grpc_client_handled_total';

/** Registers the client metrics once per registry. */
export function grpcClientMetrics(registry: Registry): GrpcClientMetrics {
  const duration =
    (registry.getSingleMetric(DURATION) as Histogram<'method' | 'code'> | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'Time from starting a gRPC call to its status, on the client, by method and status code',
      labelNames: ['method', 'code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  const handled =
    (registry.getSingleMetric(HANDLED) as Counter<'method' | 'code'> | undefined) ??
    new Counter({
      name: HANDLED,
      help: 'gRPC calls completed on the client, by method and status code (anything but OK is an error)',
      labelNames: ['method', 'code'],
      registers: [registry],
    });
  return { duration, handled };
}

let processMetrics: GrpcClientMetrics | undefined;

/**
 * Every client made by createGrpcClient in this process reports into `registry` (runService calls
 * it with the service's registry; clients made before the call report once it is set).
 */
export function useGrpcClientMetrics(registry: Registry | undefined): void {
  processMetrics = registry === undefined ? undefined : grpcClientMetrics(registry);
}

export function currentGrpcClientMetrics(): GrpcClientMetrics | undefined {
  return processMetrics;
}
