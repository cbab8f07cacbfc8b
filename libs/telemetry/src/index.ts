export { initTelemetry, type Telemetry, type TelemetryOptions } from './telemetry';
export { createLogger, type LoggerOptions } from './logger';
export { createMetricsRegistry } from './metrics';
export {
  extractTraceContext,
  injectTraceContext,
  traceIdOf,
  type TraceCarrier,
} from './propagation';
export { isSecretKey, maskUrlCredentials, REDACTED, redactSecrets } from './redaction';
export { recordSpanError, withSpan, type WithSpanOptions } from './spans';
export { otlpTracesUrl } from './tracing';
// For tests and extra exporters passed as TelemetryOptions.spanProcessors.
export {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
// Metric classes from the same prom-client copy as the registry, so services need no own dependency.
export { Counter, Gauge, Histogram, type Registry, Summary } from 'prom-client';
