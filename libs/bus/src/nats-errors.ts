import { ClosedConnectionError, DrainingConnectionError, NoRespondersError, TimeoutError } from '@nats-io/transport-node';
import { BusError, type BusErrorCode } from './errors';

function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current = err;
  while (current !== undefined && chain.length < 5) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/** Maps a nats.js error (possibly wrapped in a RequestError) to a BusError with a stable code. */
export function toBusError(err: unknown, fallback: BusErrorCode, what: string): BusError {
  if (err instanceof BusError) return err;
  const chain = causeChain(err);
  const message = err instanceof Error ? err.message : String(err);
  if (chain.some((e) => e instanceof NoRespondersError)) return new BusError('no_responders', `${what}: no responders`, { cause: err });
  if (chain.some((e) => e instanceof TimeoutError)) return new BusError('timeout', `${what}: timed out`, { cause: err });
  if (chain.some((e) => e instanceof ClosedConnectionError || e instanceof DrainingConnectionError)) {
    return new BusError('closed', `${what}: bus connection is closed or draining`, { cause: err });
  }
  return new BusError(fallback, `${what}: ${message}`, { cause: err });
}
