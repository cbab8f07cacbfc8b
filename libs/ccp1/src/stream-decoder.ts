import { MAX_FRAME_LEN, MAX_VARINT_LEN } from './constants';
import { CodecError, type CodecErrorCode } from './errors';
import type { Frame } from './frame';
import { DEFAULT_DIALECT, type Dialect } from './frame-types';
import { decodeFrameFrom } from './decode-frame';
import { type VarintScan, VarintScanStatus, decodeVarint, scanVarint } from './varint';

export interface FrameStreamDecoderOptions {
  dialect?: Dialect;
  /**
   * Largest encoded frame (LEN prefix + body) the decoder will wait for; a frame announcing more
   * fails with FrameTooLarge as soon as its LEN is readable. Default and maximum: 10 + 16 MiB.
   * This is also the bound on bytes kept between pushes.
   */
  maxBufferedBytes?: number;
}

/**
 * A stream error. `frames` holds the frames decoded by the same `push` call before the bad one:
 * the reference server handles each frame as it decodes it, so callers may process these before
 * answering the error.
 */
export class FrameStreamError extends CodecError {
  readonly frames: Frame[];
  /**
   * Set when the bad frame was complete (all its LEN bytes arrived) and only its body failed: the
   * stream is still in step, and `resume()` lets the caller go on with the next frame. Holds
   * what could be read of the frame's header, for an answer on the right channel.
   */
  readonly skipped: SkippedFrame | undefined;

  constructor(code: CodecErrorCode, frames: Frame[], skipped?: SkippedFrame) {
    super(code);
    this.name = 'FrameStreamError';
    this.frames = frames;
    this.skipped = skipped;
  }
}

/** The header fields of a skipped frame that decoded (undefined past the first one that did not). */
export interface SkippedFrame {
  readonly type: number | undefined;
  readonly channel: number | undefined;
  readonly sequence: number | undefined;
}

const DEFAULT_MAX_BUFFERED = MAX_VARINT_LEN + MAX_FRAME_LEN;
/** Chunks smaller than this are copied into decoder-owned blocks instead of being kept. */
const SMALL_CHUNK = 4096;
const OWNED_BLOCK_SIZE = 16384;
/** A partly consumed chunk at least this big is trimmed to a copy so it does not stay pinned. */
const TRIM_THRESHOLD = 65536;
const EMPTY = new Uint8Array(0);

/**
 * Splits a byte stream into frames (spec §1.9): append, decode repeatedly, return complete frames,
 * wait when a frame is incomplete, throw FrameStreamError (a CodecError) for anything else.
 *
 * Deviation from the crate (trap T6): a frame whose LEN bytes are all buffered but whose body still
 * decodes as UnexpectedEof (LEN = 0, or inner varints / payload running past LEN) throws
 * UnexpectedEof here instead of waiting forever for bytes that cannot fix it. `decodeFrame` itself
 * keeps the crate behaviour.
 *
 * Memory: bytes are kept as a list of chunks and copied once, into one buffer per frame, only when
 * a frame spans chunks, so a large frame arriving in many small chunks costs linear time. Small
 * chunks are coalesced into 16 KiB blocks so per-chunk overhead cannot multiply memory use. The
 * decoder never keeps more than `maxBufferedBytes` between calls. After an error the decoder is
 * dead: every later push throws the same code. `push` takes ownership of chunks of 4 KiB and more:
 * do not modify them afterwards.
 */
export class FrameStreamDecoder {
  private readonly dialect: Dialect;
  private readonly maxFrameBytes: number;
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk in `chunks`. */
  private head = 0;
  /** Bytes of chunks[head] already consumed. */
  private headOffset = 0;
  private buffered = 0;
  /** LEN prefix + body of the frame at the front once its LEN is known, else 0. */
  private frameBytes = 0;
  /**
   * Decoder-owned block for small chunks. While `blockListed`, its filled part is the last entry
   * of `chunks`; otherwise it is idle (all its bytes consumed) and may be refilled from offset 0.
   */
  private block: Buffer | undefined;
  private blockUsed = 0;
  private blockListed = false;
  private failure: CodecErrorCode | undefined;
  /** The failure was one complete frame's body: resume() may clear it. */
  private failureSkippable = false;
  private readonly scan: VarintScan = { value: 0, end: 0 };
  private readonly lenScratch = new Uint8Array(MAX_VARINT_LEN);

  constructor(options: FrameStreamDecoderOptions = {}) {
    this.dialect = options.dialect ?? DEFAULT_DIALECT;
    const max = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    if (!Number.isInteger(max) || max < 2) throw new RangeError(`maxBufferedBytes must be an integer ≥ 2, got ${max}`);
    this.maxFrameBytes = Math.min(max, DEFAULT_MAX_BUFFERED);
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    try {
      for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    } catch (error) {
      if (error instanceof FrameStreamError) throw new FrameStreamError(error.code, frames, error.skipped);
      throw error;
    }
    return frames;
  }

  /** Adds received bytes without decoding; pair with `next()` to take frames one at a time. */
  append(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw new FrameStreamError(this.failure, []);
    this.appendChunk(chunk);
  }

  /**
   * The next complete frame, or undefined while it is incomplete. One frame at a time lets a
   * caller change how the rest of the stream is read (e.g. switch to encrypted units after the
   * frame that completes a handshake) before anything more is decoded.
   */
  next(): Frame | undefined {
    if (this.failure !== undefined) throw new FrameStreamError(this.failure, []);
    try {
      if (this.frameBytes === 0) this.frameBytes = this.peekFrameBytes();
      if (this.frameBytes === 0 || this.buffered < this.frameBytes) {
        this.tidy();
        return undefined;
      }
      const total = this.frameBytes;
      this.frameBytes = 0;
      return this.decodeFront(total);
    } catch (error) {
      if (error instanceof FrameStreamError && error.skipped) {
        // The bad frame is consumed and the bytes after it are intact: keep them for resume().
        this.failure = error.code;
        this.failureSkippable = true;
        throw error;
      }
      if (!(error instanceof CodecError)) throw error;
      this.failure = error.code;
      this.release();
      throw new FrameStreamError(error.code, []);
    }
  }

  /**
   * After a FrameStreamError with `skipped` set, goes on with the frame after the bad one (the
   * reference closes instead; a server may prefer to answer and carry on). Returns false, and
   * changes nothing, when the failure was not skippable: the stream is out of step.
   */
  resume(): boolean {
    if (this.failure === undefined || !this.failureSkippable) return false;
    this.failure = undefined;
    this.failureSkippable = false;
    return true;
  }

  /** Removes and returns every buffered byte not yet returned as a frame. */
  takeBuffered(): Buffer {
    const rest = Buffer.allocUnsafe(this.buffered);
    if (this.buffered > 0) this.copyFront(rest, this.buffered);
    this.release();
    return rest;
  }

  private appendChunk(chunk: Uint8Array): void {
    const length = chunk.byteLength;
    if (length === 0) return;
    this.buffered += length;
    if (length >= SMALL_CHUNK) {
      this.chunks.push(chunk);
      this.block = undefined; // a block with live bytes must not be refilled; an idle one is dropped
      return;
    }
    if (this.block === undefined || (this.blockListed && this.blockUsed + length > this.block.length)) {
      this.block = Buffer.allocUnsafeSlow(OWNED_BLOCK_SIZE);
      this.blockListed = false;
    }
    if (!this.blockListed) {
      // A fresh block, or an idle one whose bytes were all consumed (frames never alias blocks).
      this.blockUsed = 0;
      this.chunks.push(EMPTY);
      this.blockListed = true;
    }
    this.block.set(chunk, this.blockUsed);
    this.blockUsed += length;
    this.chunks[this.chunks.length - 1] = this.block.subarray(0, this.blockUsed);
  }

  /** Size of the front frame (LEN prefix + body) once LEN is readable, else 0; checks the limits. */
  private peekFrameBytes(): number {
    if (this.buffered === 0) return 0;
    let source = this.chunks[this.head] as Uint8Array;
    let offset = this.headOffset;
    let limit = source.length;
    if (limit - offset < MAX_VARINT_LEN && this.head < this.chunks.length - 1) {
      limit = this.copyFront(this.lenScratch, Math.min(MAX_VARINT_LEN, this.buffered));
      source = this.lenScratch;
      offset = 0;
    }
    const status = scanVarint(source, offset, limit, this.scan);
    if (status === VarintScanStatus.Incomplete) return 0;
    if (status === VarintScanStatus.Overflow) throw new CodecError('VarintOverflow');
    const total = this.scan.end - offset + this.scan.value;
    if (this.scan.value > MAX_FRAME_LEN || total > this.maxFrameBytes) throw new CodecError('FrameTooLarge');
    return total;
  }

  /** Decodes the complete front frame of `total` bytes and drops those bytes. */
  private decodeFront(total: number): Frame {
    const first = this.chunks[this.head] as Uint8Array;
    let bytes: Uint8Array;
    let owned: boolean;
    if (first.length - this.headOffset >= total) {
      bytes = first.subarray(this.headOffset, this.headOffset + total);
      owned = false;
    } else {
      bytes = Buffer.allocUnsafe(total);
      this.copyFront(bytes, total);
      owned = true;
    }
    this.consume(total);
    // All LEN bytes are here, so UnexpectedEof now means a malformed body (T6), not "wait".
    try {
      return decodeFrameFrom(bytes, this.dialect, !owned).frame;
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      throw new FrameStreamError(error.code, [], readHeader(bytes));
    }
  }

  /** Copies the first `count` buffered bytes into `target` without consuming them; returns count. */
  private copyFront(target: Uint8Array, count: number): number {
    let copied = 0;
    let offset = this.headOffset;
    for (let i = this.head; copied < count; i++, offset = 0) {
      const chunk = this.chunks[i] as Uint8Array;
      const take = Math.min(chunk.length - offset, count - copied);
      target.set(chunk.subarray(offset, offset + take), copied);
      copied += take;
    }
    return count;
  }

  private consume(count: number): void {
    this.buffered -= count;
    while (count > 0) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const rest = chunk.length - this.headOffset;
      if (count < rest) {
        this.headOffset += count;
        return;
      }
      count -= rest;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.headOffset = 0;
    }
  }

  /** Drops consumed chunk slots and unpins large chunks that are mostly consumed. */
  private tidy(): void {
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
      this.headOffset = 0;
      this.blockListed = false; // every byte is consumed: the block can be refilled from the start
      return;
    }
    if (this.head > 32 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    const first = this.chunks[this.head] as Uint8Array;
    if (this.headOffset > 0 && first.length >= TRIM_THRESHOLD) {
      this.chunks[this.head] = Uint8Array.prototype.slice.call(first, this.headOffset);
      this.headOffset = 0;
    }
  }

  private release(): void {
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.buffered = 0;
    this.frameBytes = 0;
    this.block = undefined;
    this.blockListed = false;
  }
}

/** Type, channel and sequence of an encoded frame, as far as they decode. */
function readHeader(bytes: Uint8Array): SkippedFrame {
  let type: number | undefined;
  let channel: number | undefined;
  let sequence: number | undefined;
  try {
    let offset = decodeVarint(bytes, 0).length;
    type = bytes[offset];
    offset += 1;
    const ch = decodeVarint(bytes, offset);
    channel = safeNumber(ch.value);
    sequence = safeNumber(decodeVarint(bytes, offset + ch.length).value);
  } catch {
    // what decoded so far is all we can tell
  }
  return { type, channel, sequence };
}

const safeNumber = (value: bigint): number | undefined => (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined);
