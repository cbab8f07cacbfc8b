// The package's error catalogue: the variants of the crate's `CodecError` with their exact
// Display strings (spec §1.8), so logs and Error frames read the same as the reference.

export type CodecErrorCode =
  | 'InvalidFrameType'
  | 'InvalidControlJson'
  | 'UnexpectedEof'
  | 'VarintOverflow'
  | 'PayloadTooLarge'
  | 'FrameTooLarge'
  | 'ControlTooLarge'
  | 'ChannelIdTooLarge'
  | 'SequenceTooLarge';

export const CODEC_ERROR_MESSAGES: Readonly<Record<CodecErrorCode, string>> = Object.freeze({
  InvalidFrameType: 'invalid frame type',
  InvalidControlJson: 'invalid control payload',
  UnexpectedEof: 'unexpected end of frame',
  VarintOverflow: 'varint overflow',
  PayloadTooLarge: 'payload exceeds limits',
  FrameTooLarge: 'frame exceeds limits',
  ControlTooLarge: 'control payload exceeds limits',
  ChannelIdTooLarge: 'channel id exceeds limits',
  SequenceTooLarge: 'sequence exceeds limits',
});

export class CodecError extends Error {
  readonly code: CodecErrorCode;

  constructor(code: CodecErrorCode) {
    super(CODEC_ERROR_MESSAGES[code]);
    this.name = 'CodecError';
    this.code = code;
  }
}

export function isCodecError(value: unknown, code?: CodecErrorCode): value is CodecError {
  return value instanceof CodecError && (code === undefined || value.code === code);
}
