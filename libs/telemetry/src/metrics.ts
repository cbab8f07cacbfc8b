import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry per service: process/runtime default metrics, every series labelled with `service`. */
export function createMetricsRegistry(serviceName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: serviceName });
  collectDefaultMetrics({ register: registry });
  return registry;
}
