// Public surface of @commucat/ccp1: the CCP-1 frame codec of commucat-proto (spec §1), its
// lossless JSON, and the SSE / NDJSON unit encodings (§2.4, §2.5).

export {
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  MAX_FRAME_LEN,
  MAX_CONTROL_JSON_LEN,
  MAX_CHANNEL_ID,
  MAX_SEQUENCE,
  MAX_VARINT_LEN,
} from './constants';
export { CodecError, CODEC_ERROR_MESSAGES, isCodecError, type CodecErrorCode } from './errors';
export { FrameType, DEFAULT_DIALECT, frameTypeLabel, isControlType, isFrameType, type Dialect } from './frame-types';
export type { JsonValue } from './json-value';
export { controlFrame, opaqueFrame, type Frame, type FramePayload } from './frame';
export { encodeVarint, decodeVarint, varintLength } from './varint';
export { encodeFrame } from './encode-frame';
export { decodeFrame, type DecodedFrame } from './decode-frame';
export { FrameStreamDecoder, FrameStreamError, type FrameStreamDecoderOptions, type SkippedFrame } from './stream-decoder';
export { parseJson, MAX_JSON_NESTING } from './json-parse';
export { stringifyJson, compareUtf8, type StringifyJsonOptions } from './json-stringify';
export { sseEvent, ndjsonLine } from './transport-units';
