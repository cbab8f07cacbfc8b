import type { Registry } from '@commucat/telemetry';
import { grpcClientMetrics, type GrpcClientMetrics } from './grpc-metrics';

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
