/** Stable codes for every request relay refuses; all of them are the caller's mistake. */
export type RelayErrorCode =
  | 'DEVICE_ID_INVALID'
  | 'MESSAGE_ID_INVALID'
  | 'SENDER_DEVICE_ID_INVALID'
  | 'FRAME_EMPTY'
  | 'FRAME_TOO_LARGE'
  | 'CHANNEL_ID_INVALID'
  | 'SEQ_INVALID'
  | 'TTL_INVALID'
  | 'TOO_MANY_ENVELOPES'
  | 'TOO_MANY_SEQS';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(readonly code: RelayErrorCode, message: string) {
    super(message);
  }
}
