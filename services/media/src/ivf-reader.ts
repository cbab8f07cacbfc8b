/**
 * Incremental IVF parser for ffmpeg's stdout: a 32-byte file header ("DKIF", version, header size,
 * FourCC, width, height, timebase rate/scale, frame count) and then frames of a 12-byte header
 * (u32 LE size, u64 LE pts) plus the raw VP8/VP9 frame. Chunks may split anything anywhere.
 */
import { MediaError } from '@commucat/media-format';

export const IVF_FILE_HEADER_BYTES = 32;
export const IVF_FRAME_HEADER_BYTES = 12;
/** Larger than any sane VPx frame; a bigger size means the stream is out of sync. */
export const IVF_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface IvfHeader {
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  readonly timebaseRate: number;
  readonly timebaseScale: number;
}

export interface IvfFrame {
  readonly pts: number;
  /** The bare codec frame — exactly what a VPx decoder takes. */
  readonly data: Buffer;
  readonly keyframe: boolean;
}

/** VP8 frame tag bit 0 is 0 for a key frame (RFC 6386 §9.1). */
export function isVp8Keyframe(frame: Uint8Array): boolean {
  return frame.length > 0 && (frame[0]! & 0x01) === 0;
}

/** VP9 uncompressed header: frame_marker, profile, [reserved], show_existing_frame, frame_type (0 = key). */
export function isVp9Keyframe(frame: Uint8Array): boolean {
  if (frame.length === 0) return false;
  const byte = frame[0]!;
  if (byte >> 6 !== 0b10) return false;
  const profile = ((byte >> 5) & 1) | (((byte >> 4) & 1) << 1);
  let bit = 3; // next bit, counted down from the most significant (bit 7)
  if (profile === 3) bit--;
  if ((byte >> bit) & 1) return false; // show_existing_frame
  return ((byte >> (bit - 1)) & 1) === 0;
}

export class IvfReader {
  private header_: IvfHeader | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  get header(): IvfHeader | undefined {
    return this.header_;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): IvfFrame[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const frames: IvfFrame[] = [];
    if (this.header_ === undefined) {
      if (this.pendingBytes < IVF_FILE_HEADER_BYTES) return frames;
      this.header_ = parseFileHeader(this.take(IVF_FILE_HEADER_BYTES));
    }
    while (this.pendingBytes >= IVF_FRAME_HEADER_BYTES) {
      const head = this.peek(IVF_FRAME_HEADER_BYTES);
      const size = head.readUInt32LE(0);
      if (size > IVF_MAX_FRAME_BYTES) throw new MediaError('bad_ivf', `IVF frame of ${size} bytes`);
      if (this.pendingBytes < IVF_FRAME_HEADER_BYTES + size) break;
      const pts = Number(head.readBigUInt64LE(4));
      this.take(IVF_FRAME_HEADER_BYTES);
      const data = this.take(size);
      const keyframe = this.header_.fourcc === 'VP90' ? isVp9Keyframe(data) : isVp8Keyframe(data);
      frames.push({ pts, data, keyframe });
    }
    return frames;
  }

  /** Bytes received but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private peek(length: number): Buffer {
    this.compact(length);
    return this.pending[0]!.subarray(0, length);
  }

  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    this.compact(length);
    const first = this.pending[0]!;
    const taken = first.subarray(0, length);
    if (first.length === length) this.pending.shift();
    else this.pending[0] = first.subarray(length);
    this.pendingBytes -= length;
    return taken;
  }

  /** Makes the first pending chunk hold at least `length` bytes (joins only when a split needs it). */
  private compact(length: number): void {
    if (this.pending[0]!.length >= length) return;
    this.pending = [Buffer.concat(this.pending)];
  }
}

function parseFileHeader(bytes: Buffer): IvfHeader {
  if (bytes.toString('latin1', 0, 4) !== 'DKIF') throw new MediaError('bad_ivf', 'IVF stream does not start with DKIF');
  const headerSize = bytes.readUInt16LE(6);
  if (headerSize !== IVF_FILE_HEADER_BYTES) throw new MediaError('bad_ivf', `IVF header size ${headerSize} (expected 32)`);
  return {
    fourcc: bytes.toString('latin1', 8, 12),
    width: bytes.readUInt16LE(12),
    height: bytes.readUInt16LE(14),
    timebaseRate: bytes.readUInt32LE(16),
    timebaseScale: bytes.readUInt32LE(20),
  };
}
