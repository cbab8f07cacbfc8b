import { MAX_CHANNEL_ID, MAX_CONTROL_JSON_LEN, MAX_FRAME_LEN, MAX_SEQUENCE } from './constants';
import { CodecError } from './errors';
import type { Frame } from './frame';
import { isFrameType } from './frame-types';
import { stringifyJson } from './json-stringify';
import { varintLength, writeVarint } from './varint';

/**
 * Encodes one frame as LEN ‖ TYPE ‖ CHANNEL ‖ SEQ ‖ PLEN ‖ PAYLOAD (spec §1.3).
 *
 * Checks run in the crate's order (§1.7): ChannelIdTooLarge, SequenceTooLarge, InvalidControlJson
 * (serialization), ControlTooLarge, PayloadTooLarge, FrameTooLarge. A type that is not a frame
 * type cannot exist in Rust; here it is rejected first with InvalidFrameType. Channel and
 * sequence must be non-negative integers (RangeError otherwise: a caller bug, not a wire error).
 * Control values are written with sorted keys like Rust; the payload kind is not checked against
 * the type (the crate writes whatever it is given, §1.4).
 */
export function encodeFrame(frame: Frame): Buffer {
  if (!isFrameType(frame.type)) throw new CodecError('InvalidFrameType');
  const channel = checkedU32(frame.channel, 'channel', 'ChannelIdTooLarge');
  const sequence = checkedU32(frame.sequence, 'sequence', 'SequenceTooLarge');

  const payload = frame.payload;
  let json: string | undefined;
  let payloadLength: number;
  if (payload.kind === 'control') {
    json = stringifyJson(payload.value);
    payloadLength = Buffer.byteLength(json, 'utf8');
    if (payloadLength > MAX_CONTROL_JSON_LEN) throw new CodecError('ControlTooLarge');
  } else {
    payloadLength = payload.bytes.byteLength;
  }
  if (payloadLength > MAX_FRAME_LEN) throw new CodecError('PayloadTooLarge');

  const bodyLength = 1 + varintLength(channel) + varintLength(sequence) + varintLength(payloadLength) + payloadLength;
  if (bodyLength > MAX_FRAME_LEN) throw new CodecError('FrameTooLarge');

  const out = Buffer.allocUnsafe(varintLength(bodyLength) + bodyLength);
  let offset = writeVarint(out, 0, bodyLength);
  out[offset++] = frame.type;
  offset = writeVarint(out, offset, channel);
  offset = writeVarint(out, offset, sequence);
  offset = writeVarint(out, offset, payloadLength);
  if (json !== undefined) out.write(json, offset, 'utf8');
  else if (payload.kind === 'opaque') out.set(payload.bytes, offset);
  return out;
}

function checkedU32(value: number | bigint, what: string, code: 'ChannelIdTooLarge' | 'SequenceTooLarge'): number {
  if (typeof value === 'bigint') {
    // Tolerated for callers holding u64 values from JSON; the limit is the same.
    if (value < 0n) throw new RangeError(`${what} must be a non-negative integer`);
    if (value > BigInt(MAX_CHANNEL_ID)) throw new CodecError(code);
    return Number(value);
  }
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
  if (value > (code === 'ChannelIdTooLarge' ? MAX_CHANNEL_ID : MAX_SEQUENCE)) throw new CodecError(code);
  return value;
}
