/** Stable reasons an inbound event is refused; sent as the `commucat-federation-error` trailer. */
export type FederationErrorCode =
  | 'malformed'
  | 'unknown_peer'
  | 'bad_signature'
  | 'stale'
  | 'wrong_scope'
  | 'replay'
  | 'invalid_argument'
  | 'invalid_payload'
  | 'invalid_target'
  | 'unknown_target'
  | 'not_permitted'
  | 'delivery_failed';

export class FederationError extends Error {
  constructor(readonly code: FederationErrorCode, message: string = code) {
    super(message);
    this.name = 'FederationError';
  }
}
