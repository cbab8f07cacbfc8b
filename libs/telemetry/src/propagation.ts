import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * The fleet's propagator: W3C trace context plus baggage. The helpers below use it directly
 * rather than the global one, so they behave the same whether or not initTelemetry ran.
 */
export function createPropagator(): CompositePropagator {
  return new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
}

const propagator = createPropagator();

/** Headers-like carriers: HTTP headers, gRPC metadata copies, NATS headers. */
export type TraceCarrier = Record<string, string | string[] | undefined>;

/** Writes `traceparent` (+ `tracestate`, `baggage`) of `ctx` into the carrier and returns it. */
export function injectTraceContext(carrier: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/** A context whose parent span is the remote one described by the carrier (if any). */
export function extractTraceContext(carrier: TraceCarrier, base: Context = context.active()): Context {
  return propagator.extract(base, carrier, defaultTextMapGetter);
}

/** Trace id of the span in `ctx` (the active context by default), or undefined outside a trace. */
export function traceIdOf(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
