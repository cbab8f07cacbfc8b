import type { Bus, StreamOptions } from './bus-types';

/**
 * Creates the JetStream stream or updates its limits; safe to call on every start from every
 * replica.
 */
export function ensureStream(bus: Bus, options: StreamOptions): Promise<void> {
  return bus.ensureStream(options);
}
