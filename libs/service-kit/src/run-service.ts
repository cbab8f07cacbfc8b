import { loadConfigOrExit, type CommucatConfig, type ConfigKey, type ServiceName } from '@commucat/config';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import type { Logger } from 'pino';
import { useGrpcClientMetrics } from './grpc-client-metrics';
import { createServiceRuntime, type ServiceRuntime } from './runtime';
import { installSignalHandlers } from './signals';

export interface ServiceContext {
  config: CommucatConfig;
  telemetry: Telemetry;
  logger: Logger;
  runtime: ServiceRuntime;
}

export interface RunServiceOptions {
  /** Config keys this service cannot start without (reported by name and env var). */
  require?: readonly ConfigKey[];
}

/**
 * The start-up every service shares: validated config, telemetry, the admin/gRPC runtime with
 * SIGTERM handling, then the service's own `setup` (which adds its gRPC services, readiness
 * checks and shutdown hooks), then listening. Any start-up failure ends the process with exit 1
 * and a one-line reason on stderr.
 */
export function runService(name: ServiceName, setup: (ctx: ServiceContext) => Promise<Record<string, unknown> | void>, opts: RunServiceOptions = {}): void {
  const start = async () => {
    const config = loadConfigOrExit({ require: opts.require });
    const telemetry = initTelemetry({ serviceName: name, logLevel: config.telemetry.logLevel, otlpEndpoint: config.telemetry.otlpEndpoint });
    useGrpcClientMetrics(telemetry.registry);
    const exporting = telemetry.tracesExport;
    telemetry.logger.info(exporting.export ? { traces_url: exporting.url ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT } : { traces_export: exporting.reason }, 'tracing');
    const binds = config.services[name];
    const runtime = createServiceRuntime({ name, adminBind: binds.adminBind, grpcBind: binds.grpcBind, telemetry });
    installSignalHandlers(runtime, telemetry.logger);
    const details = await setup({ config, telemetry, logger: telemetry.logger, runtime });
    const ports = await runtime.start();
    telemetry.logger.info({ ...ports, ...details }, `${name} ready`);
  };
  start().catch((err: unknown) => {
    process.stderr.write(`${name}: fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
