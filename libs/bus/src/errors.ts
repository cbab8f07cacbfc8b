/** Stable codes for every failure the bus reports. */
export type BusErrorCode =
  | 'invalid_subject'
  | 'invalid_subject_param'
  | 'encode_failed'
  | 'decode_failed'
  | 'timeout'
  | 'no_responders'
  | 'remote_error'
  | 'closed'
  | 'unavailable'
  | 'publish_failed'
  | 'stream_config_conflict'
  | 'jetstream_failed';

export class BusError extends Error {
  override readonly name = 'BusError';

  constructor(
    readonly code: BusErrorCode,
    message: string,
    options?: { cause?: unknown; remoteCode?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.remoteCode = options?.remoteCode;
  }

  /** For `remote_error`: the code the responder reported. */
  readonly remoteCode: string | undefined;
}

export function isBusError(err: unknown, code?: BusErrorCode): err is BusError {
  return err instanceof BusError && (code === undefined || err.code === code);
}
