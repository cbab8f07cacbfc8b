import type { Frame } from '@commucat/ccp1';
import type { InboundFrame } from '@commucat/contracts';

/**
 * The id of the message a frame carries: relay stores each (recipient, id) once, so the same id
 * must come back when the frame is handled again. A device that announced `idempotent-send`
 * never reuses a sequence, so (device, sequence) survives its reconnects and recognises a resend
 * after a lost Ack. Other clients (the real one restarts its counter on every connection) get
 * (connection, sequence): unique, and stable when the router handles the same frame again.
 */
export function messageIdOf(inbound: InboundFrame, frame: Frame): string {
  return inbound.idempotentSend ? `d:${inbound.deviceId}:${frame.sequence}` : `${inbound.connectionId}:${frame.sequence}`;
}
