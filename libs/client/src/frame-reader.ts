import { CodecError, decodeFrame, type Dialect, type Frame, MAX_FRAME_LEN } from '@commucat/ccp1';
import { MAX_NOISE_MESSAGE, type NoiseTransport } from '@commucat/crypto';
import { ByteQueue } from './byte-queue';
import { ClientError } from './errors';

/**
 * Turns received bytes into frames, one at a time so the owner can switch the wire format between
 * two frames that arrived in one chunk (the plaintext Ack may be followed by encrypted units).
 *
 * - Plaintext (default): the bytes are concatenated encoded frames (§1.9).
 * - Noise transport (HEAD, §3.7): the bytes are units `varint(len(ct)) ‖ ct`; each ct decrypts
 *   to bytes that are appended to a plaintext buffer, which is then cut into frames the same way.
 *
 * `next` throws CodecError for undecodable frame bytes (a frame whose LEN bytes are all here but
 * which still decodes as UnexpectedEof is malformed — trap T6 — and is reported instead of waited
 * for), and ClientError('Protocol') for a bad Noise unit.
 */
export class FrameReader {
  private readonly wire = new ByteQueue();
  /** Decrypted bytes, in Noise transport mode. */
  private plaintext: ByteQueue | undefined;
  private transport: NoiseTransport | undefined;

  constructor(private readonly dialect: Dialect) {}

  push(chunk: Uint8Array): void {
    this.wire.push(chunk);
  }

  get encrypted(): boolean {
    return this.transport !== undefined;
  }

  /** From now on, read Noise transport units; bytes already received count as such units. */
  useNoiseTransport(transport: NoiseTransport): void {
    this.transport = transport;
    this.plaintext = new ByteQueue();
  }

  /** The next complete frame, or undefined until more bytes arrive. */
  next(): Frame | undefined {
    if (this.plaintext === undefined) return takeFrame(this.wire, this.dialect);
    for (;;) {
      const frame = takeFrame(this.plaintext, this.dialect);
      if (frame !== undefined) return frame;
      const unit = this.takeUnit();
      if (unit === undefined) return undefined;
      this.plaintext.push(unit);
    }
  }

  /**
   * After a decode error the real client clears its whole frame buffer and carries on (§1.9); in
   * Noise mode only the decrypted bytes are dropped, so the unit boundaries stay intact.
   */
  discardBufferedFrames(): void {
    const queue = this.plaintext ?? this.wire;
    queue.take(queue.length);
  }

  private takeUnit(): Buffer | undefined {
    let prefix;
    try {
      prefix = this.wire.peekLengthPrefix();
    } catch (error) {
      throw new ClientError('Protocol', 'noise transport unit length is not a valid varint', { cause: error });
    }
    if (prefix === undefined) return undefined;
    if (prefix.value > BigInt(MAX_NOISE_MESSAGE)) {
      throw new ClientError('Protocol', `noise transport unit of ${prefix.value} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    }
    const total = prefix.prefixBytes + Number(prefix.value);
    if (this.wire.length < total) return undefined;
    const ciphertext = this.wire.take(total).subarray(prefix.prefixBytes);
    try {
      return (this.transport as NoiseTransport).decrypt(ciphertext);
    } catch (error) {
      throw new ClientError('Protocol', `noise transport decryption failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

function takeFrame(queue: ByteQueue, dialect: Dialect): Frame | undefined {
  const prefix = queue.peekLengthPrefix();
  if (prefix === undefined) return undefined;
  // Checked before waiting for the body, as the crate does (trap T8).
  if (prefix.value > BigInt(MAX_FRAME_LEN)) throw new CodecError('FrameTooLarge');
  const total = prefix.prefixBytes + Number(prefix.value);
  if (queue.length < total) return undefined;
  return decodeFrame(queue.take(total), dialect).frame;
}
