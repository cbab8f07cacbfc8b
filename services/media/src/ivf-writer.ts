/**
 * IVF framing for bytes going INTO ffmpeg (ivf-reader.ts parses what comes out): the 32-byte file
 * header, then a 12-byte header (u32 LE size, u64 LE pts) before each bare VP8/VP9 frame.
 */
import { IVF_FILE_HEADER_BYTES, IVF_FRAME_HEADER_BYTES, type IvfHeader } from './ivf-reader.js';

/** The file header; `frameCount` 0 = unknown (a live stream). */
export function ivfFileHeader(header: IvfHeader, frameCount = 0): Buffer {
  const bytes = Buffer.alloc(IVF_FILE_HEADER_BYTES);
  bytes.write('DKIF', 0, 'latin1');
  bytes.writeUInt16LE(0, 4); // version
  bytes.writeUInt16LE(IVF_FILE_HEADER_BYTES, 6);
  bytes.write(header.fourcc.padEnd(4, ' ').slice(0, 4), 8, 'latin1');
  bytes.writeUInt16LE(header.width, 12);
  bytes.writeUInt16LE(header.height, 14);
  bytes.writeUInt32LE(header.timebaseRate, 16);
  bytes.writeUInt32LE(header.timebaseScale, 20);
  bytes.writeUInt32LE(frameCount, 24);
  return bytes;
}

export function ivfFrameHeader(frameBytes: number, pts: number): Buffer {
  const bytes = Buffer.alloc(IVF_FRAME_HEADER_BYTES);
  bytes.writeUInt32LE(frameBytes, 0);
  bytes.writeBigUInt64LE(BigInt(pts), 4);
  return bytes;
}

/** A whole IVF file of `frames` (pts 0, 1, 2 …), e.g. to hand packets to a decoder. */
export function ivfFile(header: IvfHeader, frames: readonly Uint8Array[]): Buffer {
  return Buffer.concat([ivfFileHeader(header, frames.length), ...frames.flatMap((frame, pts) => [ivfFrameHeader(frame.byteLength, pts), frame])]);
}
