import type { Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';
import type { ExportSettings } from './export-settings';
import { setUpTracing } from './tracing';

export interface TelemetryOptions {
  readonly serviceName: string;
  readonly logLevel: pino.LevelWithSilent;
  /** OTLP/HTTP collector URL (base or full /v1/traces); no exporter when unset. */
  readonly otlpEndpoint?: string;
  readonly version?: string;
  /** Log destination; stdout by default. */
  readonly logDestination?: pino.DestinationStream;
  /** Extra span processors (e.g. an in-memory exporter in tests). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

export interface Telemetry {
  readonly serviceName: string;
  readonly logger: pino.Logger;
  readonly tracer: Tracer;
  readonly registry: Registry;
  /** Whether and where spans are exported (see export-settings.ts). */
  readonly tracesExport: ExportSettings;
  /** Flushes spans and logs and releases global registrations; safe to call twice. */
  shutdown(): Promise<void>;
}

export function initTelemetry(opts: TelemetryOptions): Telemetry {
  const tracing = setUpTracing(opts);
  const logger = createLogger({
    serviceName: opts.serviceName,
    level: opts.logLevel,
    ...(opts.version === undefined ? {} : { version: opts.version }),
    ...(opts.logDestination === undefined ? {} : { destination: opts.logDestination }),
  });
  let shuttingDown: Promise<void> | undefined;
  return {
    serviceName: opts.serviceName,
    logger,
    tracer: tracing.provider.getTracer(opts.serviceName, opts.version),
    registry: createMetricsRegistry(opts.serviceName),
    tracesExport: tracing.exporting,
    shutdown() {
      shuttingDown ??= (async () => {
        await tracing.shutdown();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      })();
      return shuttingDown;
    },
  };
}
