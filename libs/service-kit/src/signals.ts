import type { Logger } from 'pino';
import type { ServiceRuntime } from './runtime';

export interface SignalHandlerOptions {
  /** Signals that start a graceful shutdown (default SIGTERM and SIGINT). */
  readonly signals?: readonly NodeJS.Signals[];
  /** Exit anyway if shutdown has not finished by then (default 30 s, Kubernetes' grace period). */
  readonly forceExitAfterMs?: number;
  /** process.exit by default; replaceable for tests. */
  readonly exit?: (code: number) => void;
}

/**
 * On the first signal: stop the runtime (readiness withdrawn, hooks, gRPC drain, admin close),
 * flush telemetry and exit 0 — or 1 if a shutdown hook failed. A second signal, or the
 * watchdog, exits 1 at once. Returns a function that removes the handlers.
 */
export function installSignalHandlers(runtime: ServiceRuntime, logger: Logger, opts: SignalHandlerOptions = {}): () => void {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutdown requested');
    const watchdog = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      exit(1);
    }, opts.forceExitAfterMs ?? 30_000);
    watchdog.unref();

    void runtime
      .stop()
      .then(
        () => 0,
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown finished with errors');
          return 1;
        },
      )
      .then(async (code) => {
        await runtime.telemetry.shutdown().catch(() => undefined);
        clearTimeout(watchdog);
        exit(code);
      });
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
