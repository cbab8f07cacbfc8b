import type { Metadata } from '@grpc/grpc-js';
import { injectTraceContext } from '@commucat/telemetry';
import type { Context } from '@opentelemetry/api';

/** Text entries of gRPC metadata as a propagation carrier (binary `-bin` entries are skipped). */
export function metadataToCarrier(metadata: Metadata): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === 'string') carrier[key] = value;
  }
  return carrier;
}

/** Writes traceparent/tracestate/baggage of `ctx` into the metadata. */
export function injectIntoMetadata(metadata: Metadata, ctx: Context): void {
  const carrier: Record<string, string> = {};
  injectTraceContext(carrier, ctx);
  for (const [key, value] of Object.entries(carrier)) metadata.set(key, value);
}
