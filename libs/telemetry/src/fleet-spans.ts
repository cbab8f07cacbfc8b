import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';

/*
 * The fleet's spans (see tests/integration/tracing.test.ts for the shapes it checks):
 * - a frame from a device: `gateway.receive <type>` (root, SERVER) → `publish router.inbound`
 *   (bus PRODUCER) → router `process router.inbound` (CONSUMER) → `router.handle <type>` → gRPC
 *   CLIENT/SERVER pairs (relay Enqueue, presence LookupRoutes, federation Enqueue, …) and
 *   `publish gateway.deliver` / `publish gateway.reply` → the gateways' `process …` CONSUMER spans
 *   → `gateway.write_delivery` / `gateway.write_reply`. Media frames (VoiceFrame/VideoFrame) are
 *   not traced: they travel in an unsampled context (see unsampledContext).
 * - a handshake: `gateway.handshake` (root, SERVER) → `gateway.hello.verify` (Hello and ZKP),
 *   directory AuthorizeHello, presence route registration, the inbox drain.
 * - a REST request: `<METHOD> <route>` (SERVER, continues a traceparent header) → its gRPC calls.
 * - a federation delivery: `federation.dispatch` (root, PRODUCER) → `POST` (HTTP CLIENT, sends
 *   traceparent) → the peer gateway's `POST /federation/events` → its federation Receive → delivery.
 */
const FLEET_TRACER = '@commucat/fleet';

/** The tracer services use for their own spans (the provider initTelemetry registered). */
export function fleetTracer(): Tracer {
  return trace.getTracer(FLEET_TRACER);
}

export interface StartedSpan {
  readonly span: Span;
  /** `span` as the active span, for context.with() around the work it covers. */
  readonly ctx: Context;
}

/**
 * A span that starts a trace of its own whatever is active (a frame from a client, a dispatcher
 * tick): the connection's or the handshake's context must not swallow every later frame.
 */
export function startRootSpan(name: string, attributes: Attributes = {}, kind: SpanKind = SpanKind.SERVER): StartedSpan {
  const span = fleetTracer().startSpan(name, { kind, attributes, root: true }, ROOT_CONTEXT);
  return { span, ctx: trace.setSpan(ROOT_CONTEXT, span) };
}

/** A child of the active span (or of `parent`). */
export function startChildSpan(name: string, attributes: Attributes = {}, kind: SpanKind = SpanKind.INTERNAL, parent: Context = context.active()): StartedSpan {
  const span = fleetTracer().startSpan(name, { kind, attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/**
 * A context whose trace is decided "not sampled". Work run in it creates no recorded spans, and
 * the W3C traceparent it propagates (flags 00) tells every downstream service the same, so a
 * 50-frames-a-second media stream costs no spans anywhere. Logs still get a trace id that joins
 * the services' lines of one frame.
 */
export function unsampledContext(): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.NONE,
    isRemote: false,
  });
}
