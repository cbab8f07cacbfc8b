import { MAX_VARINT_LEN } from './constants';
import { CodecError } from './errors';

// Unsigned LEB128 as the crate writes and reads it (spec §1.2): minimal output, non-minimal input
// accepted, 10 bytes at most, and only bit 0 of a 10th byte counts (the rest falls off a u64).

const U64_MAX = (1n << 64n) - 1n;
const TWO_POW_32 = 0x1_0000_0000;

/** Bytes needed to write `value` (a non-negative safe integer) as a minimal varint. */
export function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/**
 * Writes a non-negative safe integer as a varint at `offset`; returns the offset after it.
 * Numbers below 2^32 use 32-bit operations; larger ones fall back to division.
 */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  if (value < TWO_POW_32) {
    let v = value >>> 0;
    while (v >= 0x80) {
      target[offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    target[offset++] = v;
    return offset;
  }
  while (value >= 0x80) {
    target[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  target[offset++] = value;
  return offset;
}

/** Encodes a u64 (number or bigint) as a minimal varint. Throws RangeError outside 0..2^64−1. */
export function encodeVarint(value: number | bigint): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`varint value must be a non-negative integer, got ${value}`);
    if (Number.isSafeInteger(value)) {
      const out = Buffer.allocUnsafe(varintLength(value));
      writeVarint(out, 0, value);
      return out;
    }
    value = BigInt(value);
  }
  if (value < 0n || value > U64_MAX) throw new RangeError(`varint value must be within 0..2^64-1, got ${value}`);
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

/** Decodes a varint exactly, as a bigint. Throws UnexpectedEof or VarintOverflow like the crate. */
export function decodeVarint(buf: Uint8Array, offset = 0): { value: bigint; length: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = offset; i < buf.length; i++) {
    const byte = buf[i] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value: value & U64_MAX, length: i - offset + 1 };
    shift += 7n;
    if (shift > 63n) throw new CodecError('VarintOverflow');
  }
  throw new CodecError('UnexpectedEof');
}

/** Outcome of `scanVarint`. */
export enum VarintScanStatus {
  Ok = 0,
  /** The input ended before a byte without the continuation bit. */
  Incomplete = 1,
  /** The 10th byte still had its continuation bit set. */
  Overflow = 2,
}

/** Where `scanVarint` puts its result; callers reuse one object so the hot path allocates nothing. */
export interface VarintScan {
  value: number;
  /** Offset just past the varint. */
  end: number;
}

/**
 * Hot-path reader over buf[offset..limit) that reports problems as a status instead of throwing.
 * `value` is exact up to 2^53; larger values are approximate but always ≥ 2^49, which is all the
 * frame decoder needs to compare them with its u32 / 16 MiB limits.
 */
export function scanVarint(buf: Uint8Array, offset: number, limit: number, out: VarintScan): VarintScanStatus {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_LEN; i++) {
    const pos = offset + i;
    if (pos >= limit) return VarintScanStatus.Incomplete;
    const byte = buf[pos] as number;
    // The 10th byte sits at bit 63: only its lowest bit survives in a u64.
    value += (i === MAX_VARINT_LEN - 1 ? byte & 0x01 : byte & 0x7f) * scale;
    if (byte < 0x80) {
      out.value = value;
      out.end = pos + 1;
      return VarintScanStatus.Ok;
    }
    scale *= 128;
  }
  return VarintScanStatus.Overflow;
}
