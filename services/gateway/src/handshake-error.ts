import type { JsonValue } from '@commucat/ccp1';

/**
 * Why a handshake failed, with the reference's ServerError Display strings (spec ccp1-wire §4.7):
 * clients show `detail`, and the real client only needs an Error frame to give up cleanly.
 */
export type HandshakeErrorKind = 'invalid' | 'storage' | 'crypto' | 'pairing' | 'negotiation' | 'key_expired';

/** What a client pinned to an expired server key must do (rotation, spec rest §3.2 / §11.22). */
export const KEY_EXPIRED_DETAIL = 'server key expired: refetch /api/server-info';

const DISPLAY: Record<Exclude<HandshakeErrorKind, 'negotiation'>, string> = {
  invalid: 'invalid request',
  storage: 'storage failure',
  crypto: 'crypto failure',
  pairing: 'pairing required',
  key_expired: KEY_EXPIRED_DETAIL,
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
    if (this.kind === 'key_expired') {
      // Same frame shape as every handshake error; the extra fields let a client tell this one apart.
      payload.code = 'key_expired';
      payload.key_expired = true;
      payload.server_info = '/api/server-info';
      payload.title = 'KeyExpired';
    }
    return payload;
  }
}

export const keyExpired = (version: number): HandshakeError => new HandshakeError('key_expired', `Noise msg1 opened under expired server key version ${version}`);
export const invalidRequest = (reason: string): HandshakeError => new HandshakeError('invalid', reason);
export const negotiationFailed = (reason: string): HandshakeError => new HandshakeError('negotiation', reason, reason);
