/**
 * Cheap structural checks of one encoded VP8/VP9 frame from a sender, before it reaches a
 * decoder: most garbage is refused here instead of poisoning the decoder's state. A frame that
 * passes may still fail to decode; transcode-stream.ts copes with that.
 */
import { MediaError } from '@commucat/media-format';
import { isVp8Keyframe, isVp9Keyframe } from './ivf-reader.js';

/** The encoded codecs the transcoder decodes. */
export type SourceVideoCodec = 'vp8' | 'vp9';

export function isSourceVideoCodec(value: string): value is SourceVideoCodec {
  return value === 'vp8' || value === 'vp9';
}

/** The IVF FourCC ffmpeg's demuxer maps to the codec. */
export const SOURCE_FOURCC: Readonly<Record<SourceVideoCodec, string>> = { vp8: 'VP80', vp9: 'VP90' };

export function isSourceKeyframe(codec: SourceVideoCodec, frame: Uint8Array): boolean {
  return codec === 'vp8' ? isVp8Keyframe(frame) : isVp9Keyframe(frame);
}

/** The code for a source frame that cannot be a frame of its codec. */
const NOT_A_FRAME = 'bad_envelope';

/**
 * Largest key frame side taken (4K fits): a garbage header claiming 16383×16383 would make the
 * decoder allocate hundreds of MB before failing.
 */
export const MAX_SOURCE_SIDE = 4096;

function sizeProblem(width: number, height: number): string | undefined {
  if (width === 0 || height === 0) return `key frame of ${width}×${height}`;
  if (width > MAX_SOURCE_SIDE || height > MAX_SOURCE_SIDE) return `key frame of ${width}×${height} (at most ${MAX_SOURCE_SIDE} a side)`;
  return undefined;
}

/** Throws MediaError `bad_envelope` for bytes that cannot be a frame of `codec`. */
export function checkSourceFrame(codec: SourceVideoCodec, frame: Uint8Array): void {
  const problem = codec === 'vp8' ? vp8Problem(frame) : vp9Problem(frame);
  if (problem !== undefined) throw new MediaError(NOT_A_FRAME, `not a ${codec} frame: ${problem}`);
}

/** RFC 6386 §9.1: 3-byte frame tag; a key frame goes on with start code 9d 01 2a and its size. */
function vp8Problem(frame: Uint8Array): string | undefined {
  if (frame.length < 3) return `${frame.length} bytes`;
  const tag = frame[0]! | (frame[1]! << 8) | (frame[2]! << 16);
  const version = (tag >> 1) & 0x7;
  if (version > 3) return `version ${version}`;
  const firstPartitionBytes = tag >>> 5;
  const headerBytes = isVp8Keyframe(frame) ? 10 : 3;
  if (headerBytes + firstPartitionBytes > frame.length) return `first partition of ${firstPartitionBytes} bytes in a ${frame.length}-byte frame`;
  if (!isVp8Keyframe(frame)) return undefined;
  if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return 'key frame without the start code';
  return sizeProblem((frame[6]! | (frame[7]! << 8)) & 0x3fff, (frame[8]! | (frame[9]! << 8)) & 0x3fff);
}

/** VP9 bitstream §6.2: frame_marker 2; a key frame carries the sync code 49 83 42, colour config and size. */
function vp9Problem(frame: Uint8Array): string | undefined {
  if (frame.length < 1) return 'empty';
  const bits = new BitReader(frame);
  if (bits.read(2) !== 0b10) return 'no frame marker';
  const profile = bits.read(1) | (bits.read(1) << 1);
  if (profile === 3 && bits.read(1) !== 0) return 'reserved bit set';
  if (bits.read(1) === 1) return undefined; // show_existing_frame: one more index, nothing to check
  const keyframe = bits.read(1) === 0;
  if (!keyframe) return undefined;
  bits.read(2); // show_frame, error_resilient_mode
  if (bits.read(8) !== 0x49 || bits.read(8) !== 0x83 || bits.read(8) !== 0x42) return 'key frame without the sync code';
  // color_config (§6.2.2): bit depth for profiles 2 and 3, colour space, then range/subsampling.
  if (profile >= 2) bits.read(1);
  const colorSpaceRgb = bits.read(3) === 7;
  if (!colorSpaceRgb) bits.read(1);
  if (profile === 1 || profile === 3) bits.read(colorSpaceRgb ? 1 : 3);
  const width = bits.read(16) + 1;
  const height = bits.read(16) + 1;
  if (bits.position > frame.length * 8) return 'key frame too short';
  return sizeProblem(width, height);
}

class BitReader {
  position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** Reads `count` bits, most significant first; past the end reads zeros. */
  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++, this.position++) {
      const byte = this.bytes[this.position >> 3] ?? 0;
      value = (value << 1) | ((byte >> (7 - (this.position & 7))) & 1);
    }
    return value;
  }
}
