import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { redactSecrets } from './redaction';

export interface LoggerOptions {
  readonly serviceName: string;
  readonly level: pino.LevelWithSilent;
  readonly version?: string;
  /** Where JSON lines go; stdout (synchronous) by default. */
  readonly destination?: pino.DestinationStream;
}

/** trace_id / span_id of the span active where the log call happens, so logs join traces. */
function activeTraceFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

export function createLogger(opts: LoggerOptions): pino.Logger {
  const base: Record<string, string> = { service: opts.serviceName };
  if (opts.version !== undefined) base.version = opts.version;
  const options: pino.LoggerOptions = {
    level: opts.level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: activeTraceFields,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: redactSecrets,
      log: redactSecrets,
    },
  };
  const logger = opts.destination === undefined ? pino(options) : pino(options, opts.destination);
  redactChildBindings(logger);
  return logger;
}

/**
 * pino applies formatters.bindings to the root bindings only; children inherit this override
 * (they are created with Object.create(parent)), so their bindings are scrubbed too.
 */
function redactChildBindings(logger: pino.Logger): void {
  type CreateChild = (this: unknown, bindings: pino.Bindings, options?: unknown) => unknown;
  const createChild = logger.child as unknown as CreateChild;
  const child: CreateChild = function (this: unknown, bindings, options) {
    return createChild.call(this, redactSecrets(bindings), options);
  };
  logger.child = child as unknown as typeof logger.child;
}
