export { createServiceRuntime, type ServiceRuntime, type ServiceRuntimeOptions, type ShutdownHook, type StartedPorts } from './runtime';
export type { RuntimeState } from './admin-server';
export type { ReadinessCheck, ReadinessReport } from './readiness';
export { installSignalHandlers, type SignalHandlerOptions } from './signals';
export { runService, type RunServiceOptions, type ServiceContext } from './run-service';
export {
  callUnary,
  type CallUnaryOptions,
  createGrpcClient,
  DEFAULT_DEADLINE_MS,
  type GrpcClientConstructor,
  type GrpcClientOptions,
  tracingClientInterceptor,
  type UnaryMethodName,
  type UnaryRequest,
  type UnaryResponse,
} from './grpc-client';
export { GrpcStatusError, ServiceKitError, type ServiceKitErrorCode, statusName } from './errors';
export { metadataToCarrier } from './metadata-carrier';
export { useGrpcClientMetrics } from './grpc-client-metrics';
export { grpcClientMetrics, type GrpcClientMetrics } from './grpc-metrics';
export { GRPC_MAX_MESSAGE_BYTES } from './grpc-limits';
export { retryDelays } from './retry-delays';
export { translateErrors } from './translate-errors';
