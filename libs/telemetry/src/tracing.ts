import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { AlwaysOffSampler, BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { exportSettings, type ExportSettings, sdkDisabled } from './export-settings';
import { createPropagator } from './propagation';

export { otlpTracesUrl } from './export-settings';

export interface TracingOptions {
  readonly serviceName: string;
  readonly version?: string;
  readonly otlpEndpoint?: string;
  readonly spanProcessors?: readonly SpanProcessor[];
}

export interface Tracing {
  readonly provider: NodeTracerProvider;
  readonly exporting: ExportSettings;
  /** Flushes pending spans and gives back the globals this instance registered. */
  shutdown(): Promise<void>;
}

/**
 * service.name is the fleet service unless OTEL_SERVICE_NAME (or service.name in
 * OTEL_RESOURCE_ATTRIBUTES) says otherwise: the environment wins, as the OTel spec has it.
 */
function fleetResource(opts: TracingOptions) {
  return defaultResource()
    .merge(resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.serviceName,
      'service.namespace': 'commucat',
      ...(opts.version === undefined ? {} : { [ATTR_SERVICE_VERSION]: opts.version }),
    }))
    .merge(detectResources({ detectors: [envDetector] }));
}

export function setUpTracing(opts: TracingOptions): Tracing {
  const exporting = exportSettings(opts.otlpEndpoint);
  const processors: SpanProcessor[] = [];
  if (exporting.export) {
    // Without a url the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _ENDPOINT itself;
    // headers, timeout and compression come from OTEL_EXPORTER_OTLP_* either way. The batch
    // processor takes OTEL_BSP_SCHEDULE_DELAY and the other OTEL_BSP_* limits.
    const exporter = new OTLPTraceExporter(exporting.url === undefined ? {} : { url: exporting.url });
    processors.push(new BatchSpanProcessor(exporter));
  }
  processors.push(...(opts.spanProcessors ?? []));

  const provider = new NodeTracerProvider({
    resource: fleetResource(opts),
    // No sampler given: the SDK builds it from OTEL_TRACES_SAMPLER / _ARG, parentbased_always_on
    // by default. A disabled SDK still hands out span contexts (logs keep their trace ids) but
    // records nothing.
    ...(sdkDisabled() ? { sampler: new AlwaysOffSampler() } : {}),
    spanProcessors: processors,
  });

  // Registered by hand (not provider.register()) to know which globals we own: a second
  // instance in the same process (tests) must not tear down the first one's.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContext = context.setGlobalContextManager(contextManager);
  if (!ownsContext) contextManager.disable();
  const ownsTracer = trace.setGlobalTracerProvider(provider);
  const ownsPropagator = propagation.setGlobalPropagator(createPropagator());

  return {
    provider,
    exporting,
    async shutdown() {
      await provider.shutdown();
      if (ownsTracer) trace.disable();
      if (ownsPropagator) propagation.disable();
      if (ownsContext) context.disable();
    },
  };
}
