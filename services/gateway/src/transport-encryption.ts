import { CodecError, decodeVarint, encodeVarint } from '@commucat/ccp1';
import type { NoiseTransport } from '@commucat/crypto';

/** Noise caps a message at 65 535 bytes; anything larger announced by a peer is garbage. */
const MAX_NOISE_MESSAGE = 65_535;

/**
 * The HEAD server's post-handshake wire format (spec ccp1-wire §3.7): every unit is
 * varint(len(ct)) ‖ ct, where ct is one Noise transport message. Outbound, one unit carries one
 * whole encoded frame; inbound, decrypted plaintexts are concatenated into the frame stream.
 */
export class NoiseUnitCodec {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly transport: NoiseTransport) {}

  seal(encodedFrame: Uint8Array): Buffer {
    const ct = this.transport.encrypt(encodedFrame);
    return Buffer.concat([encodeVarint(ct.length), ct]);
  }

  /** Appends received bytes and returns the plaintext of every complete unit, in order. */
  open(chunk: Uint8Array): Buffer[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const plaintexts: Buffer[] = [];
    for (;;) {
      let header: { value: bigint; length: number };
      try {
        header = decodeVarint(this.pending);
      } catch (err) {
        if (err instanceof CodecError && err.code === 'UnexpectedEof') break;
        throw err;
      }
      if (header.value > BigInt(MAX_NOISE_MESSAGE)) throw new CodecError('FrameTooLarge');
      const end = header.length + Number(header.value);
      if (this.pending.length < end) break;
      plaintexts.push(this.transport.decrypt(this.pending.subarray(header.length, end)));
      this.pending = this.pending.subarray(end);
    }
    return plaintexts;
  }
}
