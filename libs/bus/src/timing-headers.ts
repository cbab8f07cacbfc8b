/**
 * When a routed frame entered the fleet, carried in NATS headers next to the trace context so
 * the delivering gateway can measure delivery latency without a field in every payload.
 * Milliseconds since the epoch; 0 (or a missing header) means unknown.
 */
export interface FrameTiming {
  /** The sender's gateway decoded the frame. */
  readonly receivedAt: number;
  /** The router started handling it. */
  readonly acceptedAt: number;
}

const RECEIVED_AT = 'Commucat-Received-At';
const ACCEPTED_AT = 'Commucat-Accepted-At';

export function timingHeaders(timing: FrameTiming): Record<string, string> {
  return { [RECEIVED_AT]: String(Math.trunc(timing.receivedAt)), [ACCEPTED_AT]: String(Math.trunc(timing.acceptedAt)) };
}

function millis(value: string | undefined): number {
  const parsed = value === undefined ? Number.NaN : Number(value);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : 0;
}

/** Reads the headers back; absent or garbled values come back as 0. */
export function timingFromHeaders(headers: Readonly<Record<string, string>>): FrameTiming | undefined {
  const receivedAt = millis(headers[RECEIVED_AT]);
  const acceptedAt = millis(headers[ACCEPTED_AT]);
  return receivedAt === 0 && acceptedAt === 0 ? undefined : { receivedAt, acceptedAt };
}
