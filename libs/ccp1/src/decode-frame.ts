import { MAX_CHANNEL_ID, MAX_CONTROL_JSON_LEN, MAX_FRAME_LEN, MAX_SEQUENCE } from './constants';
import { CodecError } from './errors';
import type { Frame, FramePayload } from './frame';
import { DEFAULT_DIALECT, type Dialect, isControlType, isFrameType } from './frame-types';
import { parseJson } from './json-parse';
import { type VarintScan, VarintScanStatus, scanVarint } from './varint';

export interface DecodedFrame {
  frame: Frame;
  /** Bytes of `buf` this frame used (LEN prefix + body, trailing body bytes included). */
  consumed: number;
}

/**
 * Decodes the frame at the start of `buf` exactly as `Frame::decode` does (spec §1.6), in this
 * order: LEN varint; LEN > 16 MiB → FrameTooLarge (before looking at the buffer size); buffer too
 * short → UnexpectedEof; LEN == 0 → UnexpectedEof; type byte → InvalidFrameType; CHANNEL and SEQ
 * varints inside the body (> u32 → ChannelIdTooLarge / SequenceTooLarge); PLEN > 16 MiB →
 * PayloadTooLarge; payload past the body → UnexpectedEof; then the payload by type and dialect
 * (ControlTooLarge before InvalidControlJson). Bytes after the payload inside the body are
 * skipped; non-minimal varints are accepted.
 *
 * Note that UnexpectedEof also comes from complete but malformed frames (trap T6); use
 * FrameStreamDecoder to tell the two apart. Opaque payload bytes are copied, so the frame never
 * aliases `buf`.
 */
export function decodeFrame(buf: Uint8Array, dialect: Dialect = DEFAULT_DIALECT): DecodedFrame {
  return decodeFrameFrom(buf, dialect, true);
}

/**
 * `decodeFrame` with a choice: `copyOpaque = false` lets opaque payloads alias `buf`, for callers
 * that own `buf` and never write to it again (the stream decoder's assembled frames).
 */
export function decodeFrameFrom(buf: Uint8Array, dialect: Dialect, copyOpaque: boolean): DecodedFrame {
  const bodyLength = readVarint(buf, 0, buf.length);
  if (bodyLength > MAX_FRAME_LEN) throw new CodecError('FrameTooLarge');
  const bodyStart = cursor;
  const bodyEnd = bodyStart + bodyLength;
  if (bodyEnd > buf.length) throw new CodecError('UnexpectedEof');
  if (bodyLength === 0) throw new CodecError('UnexpectedEof');

  const type = buf[bodyStart] as number;
  if (!isFrameType(type, dialect)) throw new CodecError('InvalidFrameType');

  const channel = readVarint(buf, bodyStart + 1, bodyEnd);
  if (channel > MAX_CHANNEL_ID) throw new CodecError('ChannelIdTooLarge');
  const sequence = readVarint(buf, cursor, bodyEnd);
  if (sequence > MAX_SEQUENCE) throw new CodecError('SequenceTooLarge');
  const payloadLength = readVarint(buf, cursor, bodyEnd);
  if (payloadLength > MAX_FRAME_LEN) throw new CodecError('PayloadTooLarge');
  const payloadStart = cursor;
  const payloadEnd = payloadStart + payloadLength;
  if (payloadEnd > bodyEnd) throw new CodecError('UnexpectedEof');

  let payload: FramePayload;
  if (isControlType(type, dialect)) {
    if (payloadLength > MAX_CONTROL_JSON_LEN) throw new CodecError('ControlTooLarge');
    payload = { kind: 'control', value: parseJson(buf.subarray(payloadStart, payloadEnd)) };
  } else {
    const view = buf.subarray(payloadStart, payloadEnd);
    payload = { kind: 'opaque', bytes: copyOpaque ? Buffer.from(view) : view };
  }
  return { frame: { type, channel, sequence, payload }, consumed: bodyEnd };
}

const scan: VarintScan = { value: 0, end: 0 };
/** Offset just past the varint read by the last `readVarint` call. */
let cursor = 0;

function readVarint(buf: Uint8Array, offset: number, limit: number): number {
  const status = scanVarint(buf, offset, limit, scan);
  if (status === VarintScanStatus.Incomplete) throw new CodecError('UnexpectedEof');
  if (status === VarintScanStatus.Overflow) throw new CodecError('VarintOverflow');
  cursor = scan.end;
  return scan.value;
}
