import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { createPropagator } from './propagation';

export interface TracingOptions {
  readonly serviceName: string;
  readonly version?: string;
  readonly otlpEndpoint?: string;
  readonly spanProcessors?: readonly SpanProcessor[];
}

export interface Tracing {
  readonly provider: NodeTracerProvider;
  /** Flushes pending spans and gives back the globals this instance registered. */
  shutdown(): Promise<void>;
}

/**
 * OTLP/HTTP wants the full traces URL; operators usually give the collector base URL (as with
 * OTEL_EXPORTER_OTLP_ENDPOINT), so append the signal path unless it is already there.
 */
export function otlpTracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}

export function setUpTracing(opts: TracingOptions): Tracing {
  const processors: SpanProcessor[] = [];
  if (opts.otlpEndpoint !== undefined) {
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(opts.otlpEndpoint) })));
  }
  processors.push(...(opts.spanProcessors ?? []));

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.serviceName,
      ...(opts.version === undefined ? {} : { [ATTR_SERVICE_VERSION]: opts.version }),
    }),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
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
    async shutdown() {
      await provider.shutdown();
      if (ownsTracer) trace.disable();
      if (ownsPropagator) propagation.disable();
      if (ownsContext) context.disable();
    },
  };
}
