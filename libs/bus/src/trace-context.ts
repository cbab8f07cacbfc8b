import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { headers as createHeaders, Match, type MsgHdrs } from '@nats-io/transport-node';

// OpenTelemetry has no NATS instrumentation; the bus carries W3C trace context (traceparent /
// tracestate, or whatever the globally registered propagator writes) in message headers.

const TRACER_NAME = '@commucat/bus';

const headerSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get(carrier, key) {
    if (!carrier || !carrier.has(key, Match.IgnoreCase)) return undefined;
    return carrier.get(key, Match.IgnoreCase);
  },
};

export interface SpanTarget {
  /** Low-cardinality name (SubjectDef.name). */
  name: string;
  pattern: string;
  subject: string;
  queue?: string;
}

function attributes(target: SpanTarget, operation: string, bodySize: number) {
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': operation,
    'messaging.destination.name': target.subject,
    'messaging.destination.template': target.pattern,
    'messaging.message.body.size': bodySize,
    ...(target.queue ? { 'messaging.consumer.group.name': target.queue } : {}),
  };
}

/**
 * Starts a span for an outgoing message as a child of the active context and returns headers
 * carrying that span's context. The caller ends the span.
 */
export function startOutgoingSpan(
  operation: 'send' | 'request',
  target: SpanTarget,
  bodySize: number,
  extraHeaders?: Readonly<Record<string, string>>,
): { span: Span; headers: MsgHdrs } {
  const parent = context.active();
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `${operation === 'send' ? 'publish' : 'request'} ${target.name}`,
    { kind: operation === 'send' ? SpanKind.PRODUCER : SpanKind.CLIENT, attributes: attributes(target, operation, bodySize) },
    parent,
  );
  const headers = createHeaders();
  if (extraHeaders) for (const [key, value] of Object.entries(extraHeaders)) headers.set(key, value);
  propagation.inject(trace.setSpan(parent, span), headers, headerSetter);
  return { span, headers };
}

/**
 * Starts a span for a received message, parented by the context found in its headers, and
 * returns the context to run the handler in.
 */
export function startIncomingSpan(
  kind: 'process' | 'serve',
  target: SpanTarget,
  headers: MsgHdrs | undefined,
  bodySize: number,
): { span: Span; ctx: Context } {
  const parent = propagation.extract(ROOT_CONTEXT, headers, headerGetter);
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `${kind === 'process' ? 'process' : 'serve'} ${target.name}`,
    { kind: kind === 'process' ? SpanKind.CONSUMER : SpanKind.SERVER, attributes: attributes(target, 'process', bodySize) },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : new Error(String(err)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Message headers as a plain object (first value of each key). */
export function headersToRecord(headers: MsgHdrs | undefined): Readonly<Record<string, string>> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  for (const key of headers.keys()) record[key] = headers.get(key);
  return record;
}
