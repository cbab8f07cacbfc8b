import { Counter, type Registry } from '@commucat/telemetry';

/** What the bus was doing when it failed. */
export type BusOperation = 'publish' | 'request' | 'consume' | 'decode' | 'serve' | 'connection';

export interface BusMetrics {
  error(operation: BusOperation, subject: string, code: string): void;
}

const ERRORS = 'commucat_nats_errors_total';

export const noBusMetrics: BusMetrics = { error: () => undefined };

/**
 * NATS failures by operation, subject (the catalogue name, never the concrete subject, which
 * carries ids) and stable code. Registered once per registry, so several buses may share one.
 */
export function busMetrics(registry: Registry): BusMetrics {
  const errors =
    (registry.getSingleMetric(ERRORS) as Counter<'operation' | 'subject' | 'code'> | undefined) ??
    new Counter({
      name: ERRORS,
      help: 'NATS publish, request and consume failures, by operation, subject name and error code',
      labelNames: ['operation', 'subject', 'code'],
      registers: [registry],
    });
  return { error: (operation, subject, code) => errors.inc({ operation, subject, code }) };
}
