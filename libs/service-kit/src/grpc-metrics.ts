import { Counter, Histogram, type Registry } from '@commucat/telemetry';

/** Duration and outcome of gRPC calls, on one side of the call, by method and status code. */
export interface GrpcCallMetrics {
  readonly duration: Histogram<'method' | 'code'>;
  readonly handled: Counter<'method' | 'code'>;
}
export type GrpcServerMetrics = GrpcCallMetrics;
export type GrpcClientMetrics = GrpcCallMetrics;

// Names spelled out (not built from the side) so a search for a metric name finds its definition.
const SIDES = {
  server: {
    duration: ['commucat_grpc_server_duration_seconds', 'Time to handle a gRPC call on the server, by method and status code'],
    handled: ['commucat_grpc_server_handled_total', 'gRPC calls completed on the server, by method and status code'],
  },
  client: {
    duration: ['commucat_grpc_client_duration_seconds', 'Time from starting a gRPC call to its status, on the client, by method and status code'],
    handled: ['commucat_grpc_client_handled_total', 'gRPC calls completed on the client, by method and status code (anything but OK is an error)'],
  },
} as const;

/**
 * Registers commucat_grpc_<side>_duration_seconds and _handled_total once per registry (several
 * runtimes, or clients made before and after, may share one registry).
 */
function grpcCallMetrics(registry: Registry, side: keyof typeof SIDES): GrpcCallMetrics {
  const [durationName, durationHelp] = SIDES[side].duration;
  const [handledName, handledHelp] = SIDES[side].handled;
  const duration =
    (registry.getSingleMetric(durationName) as Histogram<'method' | 'code'> | undefined) ??
    new Histogram({
      name: durationName,
      help: durationHelp,
      labelNames: ['method', 'code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  const handled =
    (registry.getSingleMetric(handledName) as Counter<'method' | 'code'> | undefined) ??
    new Counter({ name: handledName, help: handledHelp, labelNames: ['method', 'code'], registers: [registry] });
  return { duration, handled };
}

export const grpcServerMetrics = (registry: Registry): GrpcServerMetrics => grpcCallMetrics(registry, 'server');
export const grpcClientMetrics = (registry: Registry): GrpcClientMetrics => grpcCallMetrics(registry, 'client');
