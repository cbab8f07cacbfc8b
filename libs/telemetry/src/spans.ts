import { type Context, context, type Span, type SpanOptions, SpanStatusCode, type Tracer } from '@opentelemetry/api';

export interface WithSpanOptions extends SpanOptions {
  /** Parent context; the active one by default. */
  readonly parent?: Context;
}

/** Marks a span failed: records the exception event and sets status ERROR with its message. */
export function recordSpanError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

/**
 * Runs `fn` inside a new active span and ends it afterwards. A throw (or rejection) is recorded
 * on the span and rethrown unchanged.
 */
export function withSpan<T>(
  tracer: Tracer,
  name: string,
  fn: (span: Span) => T | Promise<T>,
  opts: WithSpanOptions = {},
): Promise<T> {
  const { parent, ...spanOptions } = opts;
  return tracer.startActiveSpan(name, spanOptions, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordSpanError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
