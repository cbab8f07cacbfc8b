import { decodeVarint } from '@commucat/ccp1';

/** A u64 varint takes at most 10 bytes (spec §1.2). */
const MAX_VARINT_BYTES = 10;

/** The length prefix at the front of the queue: its value and how many bytes the prefix takes. */
export interface LengthPrefix {
  value: bigint;
  prefixBytes: number;
}

/**
 * Received bytes waiting to be cut into length-prefixed units (CCP-1 frames during the handshake,
 * Noise transport units afterwards). Chunks are kept as a list and joined only when a whole unit is
 * there, so a large unit arriving in many small chunks costs linear time.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.size += chunk.length;
  }

  /**
   * Reads the varint at the front without consuming it. Returns undefined while it is incomplete;
   * throws the codec's VarintOverflow for an 11-byte varint.
   */
  peekLengthPrefix(): LengthPrefix | undefined {
    if (this.size === 0) return undefined;
    const head = this.peek(Math.min(MAX_VARINT_BYTES, this.size));
    try {
      const { value, length } = decodeVarint(head);
      return { value, prefixBytes: length };
    } catch (error) {
      if (head.length < MAX_VARINT_BYTES && (error as { code?: string }).code === 'UnexpectedEof') return undefined;
      throw error;
    }
  }

  /** Removes and returns the first `count` bytes (the caller checked `length`). */
  take(count: number): Buffer {
    const out = this.peek(count);
    this.drop(count);
    return out;
  }

  /** Removes and returns everything. */
  takeAll(): Buffer {
    return this.take(this.size);
  }

  private peek(count: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= count) return first.subarray(0, count);
    const out = Buffer.allocUnsafe(count);
    let copied = 0;
    for (const chunk of this.chunks) {
      if (copied === count) break;
      const n = Math.min(chunk.length, count - copied);
      chunk.copy(out, copied, 0, n);
      copied += n;
    }
    return out;
  }

  private drop(count: number): void {
    this.size -= count;
    while (count > 0) {
      const first = this.chunks[0] as Buffer;
      if (first.length > count) {
        this.chunks[0] = first.subarray(count);
        return;
      }
      count -= first.length;
      this.chunks.shift();
    }
  }
}
