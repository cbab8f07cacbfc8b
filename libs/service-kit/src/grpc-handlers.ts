import {
  type Metadata,
  type MethodDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
  status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { extractTraceContext, recordSpanError } from '@commucat/telemetry';
import { context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { GrpcStatusError, statusName } from './errors';
import type { GrpcServerMetrics } from './grpc-metrics';
import { metadataToCarrier } from './metadata-carrier';

export interface HandlerDeps {
  readonly tracer: Tracer;
  readonly logger: Logger;
  readonly metrics: GrpcServerMetrics;
}

interface Outcome {
  readonly code: status;
  readonly details: string;
  readonly metadata?: Metadata;
  /** The handler failed in a way the client must not see (bug, unexpected throw). */
  readonly internalError?: unknown;
}

const GENERIC_INTERNAL_MESSAGE = 'internal error';

// Server-side codes that mean "the server failed" (OTel gRPC semantic conventions); the
// others (NOT_FOUND, INVALID_ARGUMENT, …) are the caller's problem and leave the span unset.
const SERVER_FAULT_CODES: ReadonlySet<status> = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

function isStatusObject(value: unknown): value is { code: number; details?: string; message?: string; metadata?: Metadata } {
  const code = (value as { code?: unknown } | null)?.code;
  return typeof value === 'object' && !(value instanceof Error) && typeof code === 'number' && code >= 0 && code <= 16;
}

/** Maps what a handler produced to the status the client will see. */
function outcomeOf(error: unknown): Outcome {
  if (error === null || error === undefined) return { code: status.OK, details: '' };
  if (GrpcStatusError.is(error)) return { code: error.code, details: error.message, metadata: error.metadata };
  // grpc-js style: callback({ code: status.NOT_FOUND, details: '…' }).
  if (isStatusObject(error)) {
    return {
      code: error.code,
      details: error.details ?? error.message ?? '',
      ...(error.metadata === undefined ? {} : { metadata: error.metadata }),
    };
  }
  return { code: status.INTERNAL, details: GENERIC_INTERNAL_MESSAGE, internalError: error };
}

// grpc-js reports both client cancellation and deadline expiry as 'cancelled'; the deadline
// tells them apart. The slack absorbs timer granularity.
function deadlinePassed(call: ServerUnaryCall<unknown, unknown>): boolean {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && at <= Date.now() + 5;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

type AnyUnaryHandler = (
  this: unknown,
  call: ServerUnaryCall<unknown, unknown>,
  callback: sendUnaryData<unknown>,
) => unknown;

/**
 * Wraps a unary handler: continues the caller's trace from the metadata, runs the handler in a
 * SERVER span, records duration and outcome metrics, and turns unexpected errors into INTERNAL
 * without sending their text or stack to the client. The handler may use the callback or
 * return a promise of the response.
 */
function wrapUnary(method: string, owner: unknown, handler: AnyUnaryHandler, deps: HandlerDeps): UntypedHandleCall {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const startedAt = process.hrtime.bigint();
    const parent = extractTraceContext(metadataToCarrier(call.metadata), ROOT_CONTEXT);
    const [service, methodName] = method.split('/');
    const span: Span = deps.tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': methodName } },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    let settled = false;

    const finish = (error: unknown, value?: unknown, trailer?: Metadata, flags?: number): void => {
      if (settled) return;
      settled = true;
      const outcome = outcomeOf(error);
      const code = statusName(outcome.code);
      if (outcome.internalError !== undefined) {
        recordSpanError(span, outcome.internalError);
        context.with(spanContext, () => deps.logger.error({ err: outcome.internalError, method }, 'gRPC handler failed'));
      } else if (SERVER_FAULT_CODES.has(outcome.code)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.details });
      }
      span.setAttribute('rpc.grpc.status_code', outcome.code);
      span.end();
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      deps.metrics.duration.observe({ method, code }, seconds);
      deps.metrics.handled.inc({ method, code });
      if (outcome.code === status.OK) {
        callback(null, value, trailer, flags);
      } else {
        callback({ code: outcome.code, details: outcome.details, metadata: outcome.metadata ?? trailer });
      }
    };

    // A call cut short is recorded as such; a late callback from the handler is then ignored.
    call.once('cancelled', () =>
      finish(
        deadlinePassed(call)
          ? { code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' }
          : { code: status.CANCELLED, details: 'cancelled by the client' },
      ),
    );

    context.with(spanContext, () => {
      try {
        const result = handler.call(owner, call, (error, value, trailer, flags) => finish(error, value, trailer, flags));
        if (isThenable(result)) {
          result.then(
            (value) => {
              if (value !== undefined) finish(null, value);
            },
            (error: unknown) => finish(error ?? new Error('handler rejected without a reason')),
          );
        }
      } catch (error) {
        finish(error);
      }
    });
  };
}

/** Streaming handlers keep their own flow; they only run inside the caller's trace context. */
function wrapStreaming(owner: unknown, handler: (this: unknown, call: { metadata: Metadata }, ...rest: unknown[]) => unknown): UntypedHandleCall {
  return ((call: { metadata: Metadata }, ...rest: unknown[]) => {
    const parent = extractTraceContext(metadataToCarrier(call.metadata), ROOT_CONTEXT);
    return context.with(parent, () => handler.call(owner, call, ...rest));
  }) as UntypedHandleCall;
}

/** Method path `/pkg.Service/Method` → `pkg.Service/Method` (span name and metric label). */
export function methodLabel(definition: MethodDefinition<unknown, unknown>): string {
  return definition.path.replace(/^\//, '');
}

/** Full service name (`pkg.Service`) from a definition, as used by grpc.health.v1. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0] as MethodDefinition<unknown, unknown> | undefined;
  if (first === undefined) throw new TypeError('a gRPC service definition needs at least one method');
  return methodLabel(first).split('/')[0]!;
}

export function instrumentImplementation(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  deps: HandlerDeps,
): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
    // grpc-js accepts the implementation under the definition key or the proto's original name.
    const handler = implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
    if (handler === undefined) continue; // grpc-js answers UNIMPLEMENTED
    const unary = !method.requestStream && !method.responseStream;
    wrapped[name] = unary
      ? wrapUnary(methodLabel(method), implementation, handler as unknown as AnyUnaryHandler, deps)
      : wrapStreaming(implementation, handler as unknown as Parameters<typeof wrapStreaming>[1]);
  }
  return wrapped;
}
