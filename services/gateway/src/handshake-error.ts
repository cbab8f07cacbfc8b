import type { JsonValue } from '@commucat/ccp1';

/**
 * Why a handshake failed, with the reference's ServerError Display strings (spec ccp1-wire §4.7):
 * clients show `detail`, and the real client only needs an Error frame to give up cleanly.
 */
export type HandshakeErrorKind = 'invalid' | 'storage' | 'crypto' | 'pairing' | 'negotiation';

const DISPLAY: Record<Exclude<HandshakeErrorKind, 'negotiation'>, string> = {
  invalid: 'invalid request',
  storage: 'storage failure',
  crypto: 'crypto failure',
  pairing: 'pairing required',
};

export class HandshakeError extends Error {
  /** `reason` is for our logs and metrics; the client sees only the Display string. */
  constructor(readonly kind: HandshakeErrorKind, readonly reason: string, private readonly negotiationReason?: string) {
    super(reason);
    this.name = 'HandshakeError';
  }

  get display(): string {
    return this.kind === 'negotiation' ? `protocol negotiation failed: ${this.negotiationReason}` : DISPLAY[this.kind];
  }

  /** Properties of the Error frame (keys are written sorted on the wire). */
  toErrorPayload(): Record<string, JsonValue> {
    const payload: Record<string, JsonValue> = { detail: this.display, error: 'handshake' };
    if (this.kind === 'pairing') {
      payload.pairing_required = true;
      payload.title = 'PairingRequired';
    }
    return payload;
  }
}

export const invalidRequest = (reason: string): HandshakeError => new HandshakeError('invalid', reason);
export const negotiationFailed = (reason: string): HandshakeError => new HandshakeError('negotiation', reason, reason);
