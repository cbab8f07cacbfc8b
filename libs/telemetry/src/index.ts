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
export { exportSettings, type ExportSettings, sdkDisabled } from './export-settings';
export { fleetTracer, startChildSpan, startRootSpan, type StartedSpan, unsampledContext } from './fleet-spans';
// The API pieces services need for their spans, so they need no OpenTelemetry dependency of their own.
export {
  type Attributes,
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
// For tests and extra exporters passed as TelemetryOptions.spanProcessors.
export {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
// Metric classes from the same prom-client copy as the registry, so services need no own dependency.
export { Counter, Gauge, Histogram, type Registry, Summary } from 'prom-client';
